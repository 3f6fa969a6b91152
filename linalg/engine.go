package linalg

import (
	"sync"

	"github.com/eva-lora/eva/internal/openblas"
)

// engine is one implementation of the dense kernels, stated in row-major terms. Slices are
// exactly as long as the shapes say, dimensions are at least 1 and fit LAPACK's 32-bit integers,
// and the inputs are finite: the public functions check all of this before calling an engine.
type engine interface {
	// name identifies the engine in benchmarks and test names.
	name() string
	// gemm sets the m×n matrix c = op(a)·op(b), where op(a) is m×k, op(b) is k×n, op transposes
	// when its flag is set, and lda and ldb are the row strides of a and b as stored.
	gemm(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64)
	// qr overwrites the m×n matrix a (m ≥ n) with the Q of a thin Householder QR and, when r is
	// not nil, writes the n×n upper triangular R into r (whose strict lower triangle it zeroes).
	// The signs of R's diagonal are whatever the Householder reflections give.
	qr(m, n int, a, r []float64) error
	// svd computes the thin SVD of the m×n matrix a, destroying a: s gets the p = min(m, n)
	// singular values in descending order, u the m×p left and vt the p×n right singular vectors.
	svd(m, n int, a, s, u, vt []float64) error
	// symEig computes all eigenvalues of the symmetric n×n matrix a into w in ascending order and
	// overwrites a so that row i holds the unit eigenvector of w[i].
	symEig(n int, a, w []float64) error
}

var (
	engineOnce   sync.Once
	activeEngine engine
)

// current returns OpenBLAS when it loads and gonum otherwise, warning once about the fallback.
func current() engine {
	engineOnce.Do(func() {
		e, err := loadOpenBLAS()
		if err != nil {
			openblas.WarnFallback("linalg (QR, SVD, eigendecomposition)", err)
			activeEngine = gonumEngine{}
			return
		}
		activeEngine = e
	})
	return activeEngine
}

// Backend names the implementation in use: "openblas" or "gonum" (the pure-Go fallback).
func Backend() string {
	return current().name()
}
