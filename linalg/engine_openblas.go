package linalg

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/eva-lora/eva/internal/openblas"
)

// openblasEngine calls OpenBLAS's CBLAS dgemm and its Fortran LAPACK routines.
//
// LAPACK is column-major, and a row-major r×c matrix read column-major is its c×r transpose, so
// matrices are either used as that transpose (a symmetric matrix, the SVD of a wide matrix) or
// copied into column-major order first (QR, the SVD of a tall matrix), whichever measured faster.
// Fortran passes every argument by pointer and appends the lengths of character arguments; those
// lengths are passed too (gfortran's ABI, size_t each).
type openblasEngine struct {
	dgemm  func(order, transA, transB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)
	dgeqrf func(m, n *int32, a *float64, lda *int32, tau, work *float64, lwork, info *int32)
	dorgqr func(m, n, k *int32, a *float64, lda *int32, tau, work *float64, lwork, info *int32)
	dgesdd func(jobz *byte, m, n *int32, a *float64, lda *int32, s, u *float64, ldu *int32, vt *float64, ldvt *int32, work *float64, lwork, iwork, info *int32, jobzLen uintptr)
	dsyevd func(jobz, uplo *byte, n *int32, a *float64, lda *int32, w, work *float64, lwork, iwork, liwork, info *int32, jobzLen, uploLen uintptr)
	// serial leaves OpenBLAS's thread count alone (the engine of Parallel's jobs, which run side
	// by side with OpenBLAS on one thread); otherwise each call runs on every core.
	serial bool
}

// threads runs one library call: on every core, or as it is for a serial engine.
func (e *openblasEngine) threads(f func()) {
	if e.serial {
		f()
		return
	}
	allCores(f)
}

// CBLAS enumeration values.
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

var (
	openblasOnce   sync.Once
	openblasShared *openblasEngine
	openblasErr    error
)

// loadOpenBLAS binds the symbols once and returns the engine, or why it is unavailable.
func loadOpenBLAS() (*openblasEngine, error) {
	openblasOnce.Do(func() {
		e := &openblasEngine{}
		symbols := []struct {
			fn   any
			name string
		}{
			{&e.dgemm, "cblas_dgemm"},
			{&e.dgeqrf, "dgeqrf_"},
			{&e.dorgqr, "dorgqr_"},
			{&e.dgesdd, "dgesdd_"},
			{&e.dsyevd, "dsyevd_"},
		}
		for _, s := range symbols {
			if err := openblas.Bind(s.fn, s.name); err != nil {
				openblasErr = err
				return
			}
		}
		openblasShared = e
	})
	return openblasShared, openblasErr
}

func (*openblasEngine) name() string { return "openblas" }

// allCores runs a LAPACK or BLAS call with OpenBLAS on every core: eva's CPU backend keeps OpenBLAS
// single-threaded for its own products (it splits them across goroutines), while these calls
// parallelise inside the library.
func allCores(f func()) { openblas.WithThreads(runtime.GOMAXPROCS(0), f) }

func (e *openblasEngine) gemm(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64) {
	e.threads(func() {
		e.dgemm(cblasRowMajor, cblasTranspose(transA), cblasTranspose(transB), int32(m), int32(n), int32(k),
			1, &a[0], int32(lda), &b[0], int32(ldb), 0, &c[0], int32(n))
	})
}

func cblasTranspose(t bool) int32 {
	if t {
		return cblasTrans
	}
	return cblasNoTrans
}

// narrowQR is the widest matrix whose QR the OpenBLAS engine leaves to gonum. LAPACK factors panels
// of up to 32 columns with level-2 BLAS calls, each a hand-off to OpenBLAS's threads. On the 2-core
// machine dgeqrf+dorgqr of 4096×32 (the randomized SVD's size for k = 16) took 4.0 ms against
// gonum's serial 3.0 ms when idle, and 2–5× longer than gonum while other processes used the cores;
// the two were about equal at 4096×64, and LAPACK was 1.3–2.8× faster from 4096×128 on.
const narrowQR = 64

func (e *openblasEngine) qr(m, n int, a, r []float64) error {
	if n <= narrowQR {
		return gonumEngine{}.qr(m, n, a, r)
	}
	// dgeqrf/dorgqr on a column-major copy. (The copy-free alternative, the LQ of the column-major
	// view Aᵀ through dgelqf/dorglq, measured 2–4× slower for 4096×32 to 4096×128.)
	col := make([]float64, m*n)
	transposeInto(col, a, m, n)
	rows, cols, lda := int32(m), int32(n), int32(m)
	tau := make([]float64, n)
	var info int32
	work, lwork := e.workspace(func(w *float64, lw *int32) { e.dgeqrf(&rows, &cols, &col[0], &lda, &tau[0], w, lw, &info) })
	e.threads(func() { e.dgeqrf(&rows, &cols, &col[0], &lda, &tau[0], &work[0], &lwork, &info) })
	if err := lapackInfo("dgeqrf", info); err != nil {
		return err
	}
	if r != nil {
		for i := range n {
			clear(r[i*n : i*n+i])
			for j := i; j < n; j++ {
				r[i*n+j] = col[j*m+i]
			}
		}
	}
	work, lwork = e.workspace(func(w *float64, lw *int32) { e.dorgqr(&rows, &cols, &cols, &col[0], &lda, &tau[0], w, lw, &info) })
	e.threads(func() { e.dorgqr(&rows, &cols, &cols, &col[0], &lda, &tau[0], &work[0], &lwork, &info) })
	if err := lapackInfo("dorgqr", info); err != nil {
		return err
	}
	transposeInto(a, col, n, m)
	return nil
}

func (e *openblasEngine) svd(m, n int, a, s, u, vt []float64) error {
	p := min(m, n)
	if m <= n {
		// a read column-major is the tall Aᵀ = U'·Σ·V'ᵀ, so V = U' and U = V': LAPACK's U' goes to
		// vt and its V'ᵀ to u, with no copies.
		return e.gesdd(n, m, a, s, vt, u)
	}
	// dgesdd is faster on tall column-major input than on wide (0.56 s against 0.80 s for
	// 4096×768, copies included), so a tall A is transposed rather than factored as the wide Aᵀ.
	col, uc, vtc := make([]float64, m*n), make([]float64, m*p), make([]float64, p*n)
	transposeInto(col, a, m, n)
	if err := e.gesdd(m, n, col, s, uc, vtc); err != nil {
		return err
	}
	transposeInto(u, uc, p, m)
	transposeInto(vt, vtc, n, p)
	return nil
}

// gesdd runs dgesdd with job 'S' on the column-major rows×cols matrix a (destroyed): s gets the
// p = min(rows, cols) singular values, u the column-major rows×p U and vt the column-major p×cols Vᵀ.
func (e *openblasEngine) gesdd(rows, cols int, a, s, u, vt []float64) error {
	jobz := byte('S')
	p := min(rows, cols)
	m, n, lda, ldu, ldvt := int32(rows), int32(cols), int32(rows), int32(rows), int32(p)
	iwork := make([]int32, 8*p)
	var info int32
	work, lwork := e.workspace(func(w *float64, lw *int32) {
		e.dgesdd(&jobz, &m, &n, &a[0], &lda, &s[0], &u[0], &ldu, &vt[0], &ldvt, w, lw, &iwork[0], &info, 1)
	})
	e.threads(func() {
		e.dgesdd(&jobz, &m, &n, &a[0], &lda, &s[0], &u[0], &ldu, &vt[0], &ldvt, &work[0], &lwork, &iwork[0], &info, 1)
	})
	return lapackInfo("dgesdd", info)
}

func (e *openblasEngine) symEig(n int, a, w []float64) error {
	// A symmetric matrix is its own transpose, so row- and column-major agree on input; on output
	// dsyevd's eigenvector columns are, read row-major, rows.
	jobz, uplo := byte('V'), byte('U')
	order := int32(n)
	var info int32
	var workSize float64
	var iworkSize int32
	query := int32(-1)
	e.dsyevd(&jobz, &uplo, &order, &a[0], &order, &w[0], &workSize, &query, &iworkSize, &query, &info, 1, 1)
	if err := lapackInfo("dsyevd workspace query", info); err != nil {
		return err
	}
	lwork, liwork := workspaceLength(workSize), max(iworkSize, 1)
	work, iwork := make([]float64, lwork), make([]int32, liwork)
	e.threads(func() {
		e.dsyevd(&jobz, &uplo, &order, &a[0], &order, &w[0], &work[0], &lwork, &iwork[0], &liwork, &info, 1, 1)
	})
	return lapackInfo("dsyevd", info)
}

// workspace runs a LAPACK workspace query (lwork = -1) through call and allocates the optimal work array.
func (*openblasEngine) workspace(call func(work *float64, lwork *int32)) ([]float64, int32) {
	var size float64
	query := int32(-1)
	call(&size, &query)
	n := workspaceLength(size)
	return make([]float64, n), n
}

// workspaceLength rounds a LAPACK-reported workspace size up to an int32 of at least 1.
func workspaceLength(size float64) int32 {
	return int32(max(1, min(math.Ceil(size), math.MaxInt32)))
}

// lapackInfo turns a LAPACK info code into an error.
func lapackInfo(routine string, info int32) error {
	switch {
	case info == 0:
		return nil
	case info < 0:
		return fmt.Errorf("%s rejected argument %d (a bug in linalg)", routine, -info)
	default:
		return fmt.Errorf("%s: info %d: %w", routine, info, ErrNoConvergence)
	}
}
