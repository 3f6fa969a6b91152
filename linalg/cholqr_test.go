package linalg

import (
	"fmt"
	"math"
	"testing"
)

// checkOrthonormalBasis fails unless q (m×n) has orthonormal columns whose span contains the
// columns of a: QᵀQ = I and (I − Q·Qᵀ)·a = 0, both to tol (relative to a's largest entry).
func checkOrthonormalBasis(t *testing.T, e engine, a, q *Dense, tol float64) {
	t.Helper()
	m, n := a.Rows, a.Cols
	g := NewDense(n, n)
	gemmInto(e, true, false, n, n, m, q, q, g)
	if !nearIdentity(g, tol) {
		t.Fatalf("QᵀQ is not the identity to %g", tol)
	}
	c, back := NewDense(n, n), NewDense(m, n)
	gemmInto(e, true, false, n, n, m, q, a, c)
	gemmInto(e, false, false, m, n, n, q, c, back)
	scale := 0.0
	for _, v := range a.Data {
		scale = max(scale, math.Abs(v))
	}
	for i, v := range back.Data {
		if d := math.Abs(v - a.Data[i]); d > tol*scale {
			t.Fatalf("column space lost: entry %d off by %g (scale %g)", i, d, scale)
		}
	}
}

// TestOrthonormalizeCholeskyAndFallback: CholeskyQR2 gives an orthonormal basis of the same span for
// a well-conditioned matrix and for one with κ = 10⁶ (its design range); at κ = 10¹² and for a
// rank-deficient matrix the Gram matrix is not positive definite and Householder QR takes over.
// The same orthonormalizer is reused across shapes and calls, as the range finder does.
func TestOrthonormalizeCholeskyAndFallback(t *testing.T) {
	for _, e := range testEngines(t) {
		o := &orthonormalizer{e: e}
		rng := newRNG(11)
		// spread returns A (200×30) with singular values from 1 down to 1/κ.
		spread := func(kappa float64) *Dense {
			a, _, _ := withSpectrum(t, rng, 200, 30, geometric(30, 1, math.Pow(kappa, -1.0/29)))
			return a
		}
		for _, c := range []struct {
			name string
			a    *Dense
			tol  float64
		}{
			{"gaussian 300×40", gaussian(rng, 300, 40), 1e-12},
			{"κ 1e6", spread(1e6), 1e-9},
			{"κ 1e12", spread(1e12), 1e-9},
			{"gaussian 50×50", gaussian(rng, 50, 50), 1e-12},
			{"repeated column", repeatColumn(gaussian(rng, 120, 12), 3, 7), 1e-9},
		} {
			t.Run(fmt.Sprintf("%s/%s", e.name(), c.name), func(t *testing.T) {
				q, err := o.orthonormalize(c.a.Clone())
				if err != nil {
					t.Fatal(err)
				}
				checkOrthonormalBasis(t, e, c.a, q, c.tol)
			})
		}
	}
}

// repeatColumn copies column from onto column to.
func repeatColumn(a *Dense, from, to int) *Dense {
	for i := range a.Rows {
		a.Set(i, to, a.At(i, from))
	}
	return a
}
