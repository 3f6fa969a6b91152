package inits

import (
	"errors"
	"math"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// calibCov returns the uncentred mean of x·xᵀ over n tokens whose features have unequal scales.
func calibCov(t *testing.T, in, n int, seed uint64) *linalg.Dense {
	t.Helper()
	x := gaussian(n, in, seed)
	for i := range n {
		row := x.Row(i)
		for j := range row {
			row[j] = row[j]*(1+float64(j)/4) + 0.3
		}
	}
	c := tmul(t, x, x)
	scaleAll(c, 1/float64(n))
	return c
}

// dampedCov returns C + δ·mean(diag C)·I.
func dampedCov(c *linalg.Dense, delta float64) *linalg.Dense {
	n := c.Rows
	tr := 0.0
	for i := range n {
		tr += c.At(i, i)
	}
	d := c.Clone()
	for i := range n {
		d.Data[i*n+i] += delta * tr / float64(n)
	}
	return d
}

// TestCorDA checks CorDA's defining relation for both modes: with C̃ = C + 0.01·mean(diag C)·I,
// s·B·A·C̃ equals the r leading (IPM) or trailing (KPM) singular triplets of W·C̃ from an independent
// SVD; the offset reconstructs W; with r = min(out, in) the IPM adapter is W itself (which checks
// Vᵀ = Vhᵀ·C̃⁻¹); and scaling C leaves the result unchanged.
func TestCorDA(t *testing.T) {
	w := gaussian(tOut, tIn, 20)
	c := calibCov(t, tIn, 64, 21)
	ct := dampedCov(c, 0.01)
	u, s, vt := svd(t, mul(t, w, ct))
	for _, mode := range []CorDAMode{IPM, KPM} {
		res, err := CorDA(w, c, tRank, tScale, mode)
		must(t, err)
		assertShapes(t, res, tOut, tIn, tRank)
		if !res.Offset {
			t.Errorf("%v: Offset not set", mode)
		}
		assertReconstructs(t, res, w, tScale)
		idx := span(0, tRank)
		if mode == KPM {
			idx = span(tIn-tRank, tIn)
		}
		assertClose(t, mode.String()+": s·B·A·C̃ vs triplets of W·C̃", mul(t, update(t, res, tScale), ct), triplets(t, u, s, vt, idx), 1e-9)

		scaled := c.Clone()
		scaleAll(scaled, 1e3)
		res2, err := CorDA(w, scaled, tRank, tScale, mode)
		must(t, err)
		assertClose(t, mode.String()+": s·B·A with C×1000", update(t, res2, tScale), update(t, res, tScale), 1e-9)
	}
	full, err := CorDA(w, c, tIn, tScale, IPM)
	must(t, err)
	assertClose(t, "full-rank IPM s·B·A vs W", update(t, full, tScale), w, 1e-10)
}

// TestCorDADampingDoubles builds a covariance with the eigenvalue −0.01·mean(diag C), so that
// C̃ is singular at δ = 0.01: CorDA must double δ, and its adapter then satisfies the defining
// relation with C̃ = C + 0.02·mean(diag C)·I.
func TestCorDADampingDoubles(t *testing.T) {
	const n = tIn
	lambda := geometric(n, 4, 0.8)
	others := 0.0
	for _, l := range lambda[:n-1] {
		others += l
	}
	lambda[n-1] = -0.01 * others / (n + 0.01) // then λ_last = −0.01·(Σλ)/n exactly (to rounding)
	q, err := linalg.Orthonormalize(gaussian(n, n, 22))
	must(t, err)
	c := mulT(t, pickCols(q, span(0, n), lambda), q)
	for i := range n { // exact symmetry
		for j := range i {
			c.Data[i*n+j] = c.Data[j*n+i]
		}
	}
	w := gaussian(tOut, n, 23)
	res, err := CorDA(w, c, tRank, tScale, IPM)
	must(t, err)
	ct := dampedCov(c, 0.02)
	u, s, vt := svd(t, mul(t, w, ct))
	assertClose(t, "s·B·A·C̃(δ=0.02) vs top triplets of W·C̃", mul(t, update(t, res, tScale), ct), triplets(t, u, s, vt, span(0, tRank)), 1e-8)
}

// TestCorDAErrors checks missing, misshapen, degenerate and non-finite covariances.
func TestCorDAErrors(t *testing.T) {
	w := gaussian(tOut, tIn, 24)
	if _, err := CorDA(w, nil, tRank, tScale, IPM); !errors.Is(err, ErrMissingStats) {
		t.Errorf("nil covariance: %v, want ErrMissingStats", err)
	}
	if _, err := CorDA(w, linalg.Identity(tOut), tRank, tScale, IPM); !errors.Is(err, linalg.ErrShape) {
		t.Errorf("[out, out] covariance: %v, want ErrShape", err)
	}
	if _, err := CorDA(w, linalg.NewDense(tIn, tIn), tRank, tScale, KPM); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("zero covariance: %v, want ErrArgument", err)
	}
	c := linalg.Identity(tIn)
	c.Set(2, 2, math.Inf(1))
	if _, err := CorDA(w, c, tRank, tScale, IPM); !errors.Is(err, linalg.ErrNonFinite) {
		t.Errorf("Inf covariance: %v, want ErrNonFinite", err)
	}
	if _, err := CorDA(w, linalg.Identity(tIn), tRank, tScale, CorDAMode(5)); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("bad mode: %v, want ErrArgument", err)
	}
}

// TestCorDACacheDerivesOnce: layers that share a covariance matrix (through Init with one
// CovCache) get the same adapters as uncached CorDA, and the cache derives each matrix once.
func TestCorDACacheDerivesOnce(t *testing.T) {
	c := calibCov(t, tIn, 64, 21)
	cache := &CovCache{}
	method, err := Parse("corda")
	must(t, err)
	for i, seed := range []uint64{30, 31, 32} {
		w := gaussian(tOut, tIn, seed)
		want, err := CorDA(w, c, tRank, tScale, IPM)
		must(t, err)
		got, err := Init(method, w, Stats{Cov: c}, Config{Rank: tRank, Scale: tScale, CovCache: cache})
		must(t, err)
		assertClose(t, "cached A", got.A, want.A, 0)
		assertClose(t, "cached B", got.B, want.B, 0)
		if len(cache.derived) != 1 {
			t.Errorf("layer %d: the cache holds %d derived matrices, want 1", i, len(cache.derived))
		}
	}
}
