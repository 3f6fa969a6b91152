package linalg

import (
	"math"

	"gonum.org/v1/gonum/blas"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

// gramDrift is the largest entry of |QᵀQ − I| that CholeskyQR2's first pass may leave: beyond it the
// second pass would not restore orthogonality to rounding, and Householder QR takes over.
const gramDrift = 0.1

// orthonormalizer gives a tall m×q matrix an orthonormal basis of its column space, reusing its
// buffers from call to call (the range finder of RandomizedSVD calls it 2·iters + 1 times).
type orthonormalizer struct {
	e                engine
	gram, rinv, next *Dense // q×q, q×q and m×q scratch
}

// orthonormalize returns an m×q matrix with orthonormal columns spanning the columns of y (m ≥ q,
// full column rank). It runs Cholesky QR twice (CholeskyQR2: R = chol(YᵀY), Y ← Y·R⁻¹, again), whose
// work is Gram products and triangular multiplications — BLAS-3, where Householder QR sweeps column
// by column, and which OpenBLAS's threads slow down at these sizes (BenchmarkOrthonormalize,
// 833×128 on the build machine: 3.4 against 4.6 ms on one thread, 3.9 against 11.7 ms on two;
// 384×128: even on one thread, 2.4 against 7.0 ms on two). In float64 two passes give
// orthogonality to rounding while κ(Y) stays below about 10⁷ (Yamamoto et al., ETNA 44, 2015); when
// a Gram matrix is not numerically positive definite, or the first pass drifted too far from
// orthogonality for the second to repair, it falls back to Householder QR. The result may be y
// itself or a scratch matrix; y's contents are not kept.
func (o *orthonormalizer) orthonormalize(y *Dense) (*Dense, error) {
	m, q := y.Rows, y.Cols
	if o.gram == nil || o.gram.Rows != q || o.next.Rows != m {
		o.gram, o.rinv, o.next = NewDense(q, q), NewDense(q, q), NewDense(m, q)
	}
	for pass := range 2 {
		gemmInto(o.e, true, false, q, q, m, y, y, o.gram)
		if pass == 1 && !nearIdentity(o.gram, gramDrift) {
			break
		}
		if !upperCholeskyInverse(o.gram, o.rinv) {
			break
		}
		gemmInto(o.e, false, false, m, q, q, y, o.rinv, o.next)
		y, o.next = o.next, y
		if pass == 1 {
			return y, nil
		}
	}
	// y spans the input's columns still (a first pass only changes its basis).
	return y, qrInPlace(o.e, y, o.gram)
}

// nearIdentity reports whether every entry of the square g is within tol of the identity's.
func nearIdentity(g *Dense, tol float64) bool {
	for i := range g.Rows {
		for j, v := range g.Row(i) {
			if i == j {
				v--
			}
			if !(math.Abs(v) <= tol) {
				return false
			}
		}
	}
	return true
}

// upperCholeskyInverse factors the symmetric positive definite g (destroying it) as RᵀR and writes
// R⁻¹ (upper triangular) into rinv. It reports false when g is not numerically positive definite.
func upperCholeskyInverse(g, rinv *Dense) bool {
	var impl lapackgonum.Implementation
	n := g.Rows
	if !impl.Dpotrf(blas.Upper, n, g.Data, n) {
		return false
	}
	copyUpper(rinv.Data, g.Data, n)
	return impl.Dtrtri(blas.Upper, blas.NonUnit, n, rinv.Data, n)
}
