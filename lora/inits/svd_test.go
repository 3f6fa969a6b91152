package inits

import (
	"errors"
	"math"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// TestPiSSA checks that s·B·A is W's best rank-r approximation (it equals the r leading triplets of
// an independent SVD and its singular values are W's top r), that the residual W − s·B·A keeps
// exactly the other singular values, that PEFT's S/s split holds (BᵀB = A·Aᵀ = diag(σ_r/s)) and that
// the offset reconstructs W.
func TestPiSSA(t *testing.T) {
	w := gaussian(tOut, tIn, 10)
	res, err := PiSSA(w, tRank, tScale, ExactSVD, 0)
	must(t, err)
	assertShapes(t, res, tOut, tIn, tRank)
	if !res.Offset {
		t.Error("PiSSA does not set Offset")
	}
	assertReconstructs(t, res, w, tScale)

	u, s, vt := svd(t, w)
	upd := update(t, res, tScale)
	assertClose(t, "s·B·A vs W's top-r triplets", upd, triplets(t, u, s, vt, span(0, tRank)), 1e-12)
	_, us, _ := svd(t, upd)
	assertSliceClose(t, "singular values of s·B·A", us[:tRank], s[:tRank], 1e-12)

	resid, err := res.Residual(w, tScale)
	must(t, err)
	_, rs, _ := svd(t, resid)
	assertSliceClose(t, "residual singular values", rs[:tIn-tRank], s[tRank:], 1e-10)

	half := make([]float64, tRank)
	for i := range half {
		half[i] = s[i] / tScale
	}
	assertDiag(t, "BᵀB", tmul(t, res.B, res.B), half)
	assertDiag(t, "A·Aᵀ", mulT(t, res.A, res.A), half)
}

// assertDiag checks that m is diag(want) to 1e-12 relative to the largest entry.
func assertDiag(t *testing.T, what string, m *linalg.Dense, want []float64) {
	t.Helper()
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range m.Rows {
		for j := range m.Cols {
			expect := 0.0
			if i == j {
				expect = want[i]
			}
			if math.Abs(m.At(i, j)-expect) > 1e-12*scale {
				t.Fatalf("%s(%d, %d) = %.12g, want %.12g", what, i, j, m.At(i, j), expect)
			}
		}
	}
}

// TestPiSSANiter checks pissa_niter_N on a matrix with a decaying spectrum (σ_i = 0.5^i): with 4
// power iterations s·B·A is within 1e-3 of the exact rank-r approximation, closer than with none,
// and the offset still reconstructs W exactly.
func TestPiSSANiter(t *testing.T) {
	w := withSpectrum(t, tOut, tIn, geometric(tIn, 1, 0.5), 11)
	exact, err := PiSSA(w, tRank, tScale, ExactSVD, 0)
	must(t, err)
	want := update(t, exact, tScale)
	errAt := func(niter int) float64 {
		res, err := PiSSA(w, tRank, tScale, niter, 3)
		must(t, err)
		assertShapes(t, res, tOut, tIn, tRank)
		assertReconstructs(t, res, w, tScale)
		return relDiff(update(t, res, tScale), want)
	}
	e0, e4 := errAt(0), errAt(4)
	if e4 > 1e-3 {
		t.Errorf("pissa_niter_4: relative error %.3g of s·B·A, want ≤ 1e-3", e4)
	}
	if e4 >= e0 {
		t.Errorf("4 power iterations (error %.3g) no better than none (%.3g)", e4, e0)
	}
	if _, err := PiSSA(w, tRank, tScale, -2, 0); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("niter = −2: %v, want ErrArgument", err)
	}
}

// TestMiLoRA checks that s·B·A is the sum of W's r smallest singular triplets (its singular values
// are W's bottom r) and that the offset reconstructs W.
func TestMiLoRA(t *testing.T) {
	w := gaussian(tOut, tIn, 12)
	res, err := MiLoRA(w, tRank, tScale)
	must(t, err)
	assertShapes(t, res, tOut, tIn, tRank)
	assertReconstructs(t, res, w, tScale)
	u, s, vt := svd(t, w)
	upd := update(t, res, tScale)
	assertClose(t, "s·B·A vs W's bottom-r triplets", upd, triplets(t, u, s, vt, span(tIn-tRank, tIn)), 1e-10)
	_, us, _ := svd(t, upd)
	assertSliceClose(t, "singular values of s·B·A", us[:tRank], s[tIn-tRank:], 1e-10)
}

// TestAILoRA checks the layer-name roles and that the principal role is PiSSA and the minor role
// MiLoRA, through Init's dispatch on the layer name.
func TestAILoRA(t *testing.T) {
	roles := map[string]Role{
		"model.layers.0.self_attn.q_proj":      Principal,
		"encoder.layer.1.attention.self.query": Principal,
		"transformer.h.0.attn.c_attn":          Principal,
		"model.layers.0.self_attn.v_proj":      Minor,
		"encoder.layer.1.attention.self.value": Minor,
		"model.layers.0.self_attn.k_proj":      Principal,
		"model.layers.0.mlp.down_proj":         Principal,
		"V_PROJ":                               Minor,
	}
	for name, want := range roles {
		if got := RoleForLayer(name); got != want {
			t.Errorf("RoleForLayer(%q) = %v, want %v", name, got, want)
		}
	}
	w := gaussian(tOut, tIn, 13)
	m, err := Parse("ailora")
	must(t, err)
	for _, c := range []struct {
		layer string
		ref   func() (Result, error)
	}{
		{"model.layers.0.self_attn.q_proj", func() (Result, error) { return PiSSA(w, tRank, tScale, ExactSVD, 0) }},
		{"model.layers.0.self_attn.v_proj", func() (Result, error) { return MiLoRA(w, tRank, tScale) }},
	} {
		got, err := Init(m, w, Stats{}, Config{Rank: tRank, Scale: tScale, Layer: c.layer})
		must(t, err)
		want, err := c.ref()
		must(t, err)
		if !got.Offset {
			t.Errorf("%s: AILoRA does not set Offset", c.layer)
		}
		assertClose(t, c.layer+": AILoRA s·B·A", update(t, got, tScale), update(t, want, tScale), 1e-14)
	}
	if _, err := AILoRA(w, tRank, tScale, Role(7)); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("unknown role: %v, want ErrArgument", err)
	}
}

// TestOLoRA checks, for a tall and a wide W: B has orthonormal columns, A is upper trapezoidal
// with a non-negative diagonal, B·A reproduces W's first r columns and equals B·Bᵀ·W (the
// projection onto their span), and the offset reconstructs W.
func TestOLoRA(t *testing.T) {
	for _, shape := range [][2]int{{tOut, tIn}, {tIn, tOut}} {
		out, in := shape[0], shape[1]
		w := gaussian(out, in, 14)
		res, err := OLoRA(w, tRank)
		must(t, err)
		assertShapes(t, res, out, in, tRank)
		if !res.Offset {
			t.Error("OLoRA does not set Offset")
		}
		assertReconstructs(t, res, w, tScale)
		assertClose(t, "BᵀB vs I", tmul(t, res.B, res.B), linalg.Identity(tRank), 1e-13)
		for i := range tRank {
			for j := range i {
				if res.A.At(i, j) != 0 {
					t.Errorf("%d×%d: A(%d, %d) = %g, want 0 (upper trapezoid)", out, in, i, j, res.A.At(i, j))
				}
			}
			if res.A.At(i, i) < 0 {
				t.Errorf("%d×%d: A(%d, %d) = %g < 0", out, in, i, i, res.A.At(i, i))
			}
		}
		ba := mul(t, res.B, res.A)
		assertClose(t, "B·A's first r columns vs W's", pickCols(ba, span(0, tRank), nil), pickCols(w, span(0, tRank), nil), 1e-13)
		assertClose(t, "B·A vs B·Bᵀ·W", ba, mul(t, mulT(t, res.B, res.B), w), 1e-13)
	}
}

// TestWeightMethodErrors checks rank bounds, bad scales and non-finite weights.
func TestWeightMethodErrors(t *testing.T) {
	w := gaussian(tOut, tIn, 15)
	for _, r := range []int{0, -1, tIn + 1} {
		if _, err := PiSSA(w, r, tScale, ExactSVD, 0); !errors.Is(err, linalg.ErrArgument) {
			t.Errorf("PiSSA r = %d: %v, want ErrArgument", r, err)
		}
		if _, err := MiLoRA(w, r, tScale); !errors.Is(err, linalg.ErrArgument) {
			t.Errorf("MiLoRA r = %d: %v, want ErrArgument", r, err)
		}
		if _, err := OLoRA(w, r); !errors.Is(err, linalg.ErrArgument) {
			t.Errorf("OLoRA r = %d: %v, want ErrArgument", r, err)
		}
	}
	for _, s := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := PiSSA(w, tRank, s, ExactSVD, 0); !errors.Is(err, linalg.ErrArgument) {
			t.Errorf("PiSSA s = %v: %v, want ErrArgument", s, err)
		}
	}
	bad := w.Clone()
	bad.Set(3, 5, math.NaN())
	if _, err := PiSSA(bad, tRank, tScale, ExactSVD, 0); !errors.Is(err, linalg.ErrNonFinite) {
		t.Errorf("PiSSA NaN weight: %v, want ErrNonFinite", err)
	}
	if _, err := OLoRA(&linalg.Dense{Rows: 2, Cols: 2, Data: []float64{1}}, 1); !errors.Is(err, linalg.ErrShape) {
		t.Errorf("OLoRA malformed weight: %v, want ErrShape", err)
	}
	if _, err := (Result{A: linalg.NewDense(2, 3), B: linalg.NewDense(4, 2)}).Residual(linalg.NewDense(3, 3), 1); !errors.Is(err, linalg.ErrShape) {
		t.Errorf("Residual with a mismatched weight: %v, want ErrShape", err)
	}
}
