package linalg

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	blasgonum "gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

// gonumEngine is the pure-Go fallback. Gonum's BLAS and LAPACK are row-major, like Dense, so
// matrices are passed as they are.
type gonumEngine struct{}

func (gonumEngine) name() string { return "gonum" }

func (gonumEngine) gemm(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64) {
	blasgonum.Implementation{}.Dgemm(gonumTranspose(transA), gonumTranspose(transB), m, n, k,
		1, a, lda, b, ldb, 0, c, n)
}

func gonumTranspose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func (gonumEngine) qr(m, n int, a, r []float64) error {
	var impl lapackgonum.Implementation
	tau := make([]float64, n)
	query := []float64{0}
	impl.Dgeqrf(m, n, a, n, tau, query, -1)
	impl.Dgeqrf(m, n, a, n, tau, make([]float64, workLen(query[0])), workLen(query[0]))
	if r != nil {
		copyUpper(r, a[:n*n], n)
	}
	impl.Dorgqr(m, n, n, a, n, tau, query, -1)
	impl.Dorgqr(m, n, n, a, n, tau, make([]float64, workLen(query[0])), workLen(query[0]))
	return nil
}

func (gonumEngine) svd(m, n int, a, s, u, vt []float64) error {
	var impl lapackgonum.Implementation
	p := min(m, n)
	query := []float64{0}
	impl.Dgesvd(lapack.SVDStore, lapack.SVDStore, m, n, a, n, s, u, p, vt, n, query, -1)
	if !impl.Dgesvd(lapack.SVDStore, lapack.SVDStore, m, n, a, n, s, u, p, vt, n, make([]float64, workLen(query[0])), workLen(query[0])) {
		return fmt.Errorf("gonum Dgesvd: %w", ErrNoConvergence)
	}
	return nil
}

func (gonumEngine) symEig(n int, a, w []float64) error {
	var impl lapackgonum.Implementation
	query := []float64{0}
	impl.Dsyev(lapack.EVCompute, blas.Upper, n, a, n, w, query, -1)
	if !impl.Dsyev(lapack.EVCompute, blas.Upper, n, a, n, w, make([]float64, workLen(query[0])), workLen(query[0])) {
		return fmt.Errorf("gonum Dsyev: %w", ErrNoConvergence)
	}
	// Dsyev leaves eigenvectors in columns; the engine contract wants rows.
	for i := range n {
		for j := i + 1; j < n; j++ {
			a[i*n+j], a[j*n+i] = a[j*n+i], a[i*n+j]
		}
	}
	return nil
}

// workLen converts a workspace size reported by a query to a usable length.
func workLen(size float64) int {
	return max(1, int(size))
}

// copyUpper copies the upper triangle of the n×n row-major src into dst and zeroes dst's strict
// lower triangle.
func copyUpper(dst, src []float64, n int) {
	for i := range n {
		row := dst[i*n : (i+1)*n]
		clear(row[:i])
		copy(row[i:], src[i*n+i:(i+1)*n])
	}
}
