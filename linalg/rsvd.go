package linalg

import (
	"fmt"
	"math/rand/v2"
)

// DefaultPowerIters is the number of power iterations RandomizedSVD runs when
// RandomizedOptions.PowerIters is zero.
const DefaultPowerIters = 4

// pcgStream is the second PCG seed word; fixed so that Seed alone determines the test matrix.
const pcgStream = 0x6576612d6c696e61 // "eva-lina"

// RandomizedOptions tunes RandomizedSVD. The zero value selects the defaults.
type RandomizedOptions struct {
	// Columns is the width q ≥ k of the Gaussian test matrix; zero selects 2k (as PEFT's EVA does).
	// It is capped at min(m, n).
	Columns int
	// PowerIters is the number of power iterations; zero selects DefaultPowerIters and a negative
	// value runs none.
	PowerIters int
	// Seed seeds the PCG generator (math/rand/v2) that draws the test matrix: equal seeds give
	// equal results on the same backend.
	Seed uint64
}

// RandomizedSVD returns the k leading singular triplets of the m×n matrix A: u is m×k, s holds k
// values in descending order and vt is k×n, as the first k columns of SVD's U, entries of s and rows
// of Vᵀ would be (up to signs, and approximately: the error shrinks with the spectral decay of A and
// with the number of power iterations).
//
// It follows Halko, Martinsson and Tropp (2011): Y = A·Ω for a Gaussian n×q test matrix Ω, then
// power iterations Y ← A·(Aᵀ·Y) with the basis re-orthonormalised (CholeskyQR2, Householder QR
// where that cannot) after every product with A and with Aᵀ, then the exact SVD of the small q×n
// projection QᵀA. When k ≥ min(m, n) it returns the exact SVD, which has min(m, n) triplets; when
// q ≥ min(m, n)/2 it returns the exact SVD's k leading triplets, which are cheaper to compute than
// such a wide sketch.
func RandomizedSVD(a *Dense, k int, opts RandomizedOptions) (u *Dense, s []float64, vt *Dense, err error) {
	return Solver{}.RandomizedSVD(a, k, opts)
}

func randomizedSVDWith(e engine, a *Dense, k int, opts RandomizedOptions) (u *Dense, s []float64, vt *Dense, err error) {
	if err := checkMatrix("RandomizedSVD input", a); err != nil {
		return nil, nil, nil, err
	}
	if k <= 0 {
		return nil, nil, nil, fmt.Errorf("RandomizedSVD: rank k = %d, want k ≥ 1: %w", k, ErrArgument)
	}
	m, n := a.Rows, a.Cols
	if k >= min(m, n) {
		return svdChecked(e, a)
	}
	q := opts.Columns
	if q == 0 {
		q = 2 * k
	}
	if q < k {
		return nil, nil, nil, fmt.Errorf("RandomizedSVD: %d test columns for rank %d, want at least k: %w", q, k, ErrArgument)
	}
	q = min(q, m, n)
	if 2*q >= min(m, n) {
		// A sketch of half the smaller side or more costs more than the exact SVD, and the exact
		// triplets are what a sketch approximates (BenchmarkSketchOrExact, GOMAXPROCS=2 on the build
		// machine: 897×384 at q = 256, 160 ms sketched against 108 ms exact; 833×384 at q = 128,
		// 52 against 105; 897×1024 at q = 256, 253 against 471).
		return leadingTriplets(e, a, k)
	}
	iters := opts.PowerIters
	if iters == 0 {
		iters = DefaultPowerIters
	}
	return sketchSVD(e, a, k, q, max(iters, 0), opts.Seed)
}

// sketchSVD is the randomized SVD proper: k triplets from a q-column sketch after iters power
// iterations (k ≤ q ≤ min(m, n)).
func sketchSVD(e engine, a *Dense, k, q, iters int, seed uint64) (u *Dense, s []float64, vt *Dense, err error) {
	m, n := a.Rows, a.Cols
	basis, err := rangeBasis(e, a, q, iters, seed)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("RandomizedSVD of %d×%d matrix: %w", m, n, err)
	}
	// A ≈ Q·(QᵀA) and QᵀA = Ub·Σ·Vᵀ, so the leading left singular vectors of A are Q·Ub[:, :k].
	projected := NewDense(q, n)
	gemmInto(e, true, false, q, n, m, basis, a, projected)
	ub, sigma, vtb, err := svdChecked(e, projected)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("RandomizedSVD of %d×%d matrix: %w", m, n, err)
	}
	u = NewDense(m, k)
	gemmInto(e, false, false, m, k, q, basis, leadingColumns(ub, k), u)
	return u, sigma[:k:k], leadingRows(vtb, k), nil
}

// leadingColumns returns a copy of the first k columns of d.
func leadingColumns(d *Dense, k int) *Dense {
	out := NewDense(d.Rows, k)
	for i := range d.Rows {
		copy(out.Row(i), d.Row(i)[:k])
	}
	return out
}

// leadingRows returns the first k rows of d (sharing its storage).
func leadingRows(d *Dense, k int) *Dense {
	return &Dense{Rows: k, Cols: d.Cols, Data: d.Data[: k*d.Cols : k*d.Cols]}
}

// rangeBasis returns an m×q matrix with orthonormal columns approximately spanning A's leading
// q-dimensional left singular subspace, after iters power iterations.
func rangeBasis(e engine, a *Dense, q, iters int, seed uint64) (*Dense, error) {
	m, n := a.Rows, a.Cols
	omega := NewDense(n, q)
	rng := rand.New(rand.NewPCG(seed, pcgStream))
	for i := range omega.Data {
		omega.Data[i] = rng.NormFloat64()
	}
	y, z := NewDense(m, q), NewDense(n, q)
	left, right := &orthonormalizer{e: e}, &orthonormalizer{e: e}
	gemmInto(e, false, false, m, q, n, a, omega, y)
	y, err := left.orthonormalize(y)
	if err != nil {
		return nil, err
	}
	for range iters {
		gemmInto(e, true, false, n, q, m, a, y, z)
		if z, err = right.orthonormalize(z); err != nil {
			return nil, err
		}
		gemmInto(e, false, false, m, q, n, a, z, y)
		if y, err = left.orthonormalize(y); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// leadingTriplets returns the first k triplets of the exact SVD of a (k < min(m, n)).
func leadingTriplets(e engine, a *Dense, k int) (u *Dense, s []float64, vt *Dense, err error) {
	fu, fs, fvt, err := svdChecked(e, a)
	if err != nil {
		return nil, nil, nil, err
	}
	return leadingColumns(fu, k), fs[:k:k], leadingRows(fvt, k), nil
}
