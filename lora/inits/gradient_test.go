package inits

import (
	"errors"
	"math"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// testGrad returns a gradient [out, in] with well separated singular values.
func testGrad(t *testing.T, seed uint64) *linalg.Dense {
	t.Helper()
	return withSpectrum(t, tOut, tIn, geometric(tIn, 3, 0.8), seed)
}

// TestLoRAGAFirstStep checks LoRA-GA's defining property with PEFT's defaults (ArB2r, stable, γ = 16).
// With the offset the model starts at W, so the loss gradient with respect to the merged weight is
// G, and one SGD step of size η on (A, B) moves s·B·A by, to first order,
//
//	ΔW = −η·s²·(G·AᵀA + B·Bᵀ·G).
//
// For ArB2r this must equal −η·s²·(G_r + c²·Σ_{i=r+1..2r} σ_i³·u_i·v_iᵀ), c = out^{1/4}/√γ, from an
// independent SVD of G: the A-part is exactly G's best rank-r approximation, the whole step lies in
// G's leading 2r singular subspaces and descends (⟨ΔW, G⟩ < 0).
func TestLoRAGAFirstStep(t *testing.T) {
	w := gaussian(tOut, tIn, 30)
	g := testGrad(t, 31)
	res, err := LoRAGA(w, g, tRank, tScale, DefaultLoRAGAOptions())
	must(t, err)
	assertShapes(t, res, tOut, tIn, tRank)
	if !res.Offset {
		t.Error("LoRA-GA does not set Offset")
	}
	assertReconstructs(t, res, w, tScale)

	const eta = 1e-3
	aPart := mul(t, g, tmul(t, res.A, res.A)) // G·AᵀA
	bPart := mul(t, mulT(t, res.B, res.B), g) // B·Bᵀ·G
	step := add(aPart, bPart, 1)
	scaleAll(step, -eta*tScale*tScale)

	u, s, vt := svd(t, g)
	assertClose(t, "G·AᵀA vs G_r", aPart, triplets(t, u, s, vt, span(0, tRank)), 1e-10)
	c2 := math.Sqrt(tOut) / 16
	cubed := make([]float64, len(s))
	for i := range s {
		cubed[i] = c2 * s[i] * s[i] * s[i]
	}
	want := add(triplets(t, u, s, vt, span(0, tRank)), triplets(t, u, cubed, vt, span(tRank, 2*tRank)), 1)
	scaleAll(want, -eta*tScale*tScale)
	assertClose(t, "first SGD step of s·B·A", step, want, 1e-9)

	pu, pv := projector(t, u, span(0, 2*tRank), false), projector(t, vt, span(0, 2*tRank), true)
	assertClose(t, "step projected on G's top-2r subspaces", mul(t, mul(t, pu, step), pv), step, 1e-10)
	inner := 0.0
	for i := range g.Data {
		inner += g.Data[i] * step.Data[i]
	}
	if inner >= 0 {
		t.Errorf("⟨ΔW, G⟩ = %g, want < 0 (a descent step)", inner)
	}
}

// TestLoRAGADirectionsAndScales checks where each direction takes A's rows and B's columns from
// (AᵀA is the projector onto the chosen right singular vectors, B·Bᵀ = c²·Σ σ_i²·u_i·u_iᵀ over the
// chosen left ones) and what each scale does to the sizes (gd_scale divides A and B by s, unit
// leaves B = U·diag(σ), weight_svd makes B's largest column norm σ₁(W)).
func TestLoRAGADirectionsAndScales(t *testing.T) {
	w := withSpectrum(t, tOut, tIn, geometric(tIn, 5, 0.7), 32)
	g := testGrad(t, 33)
	u, s, vt := svd(t, g)
	odd, even := []int{}, []int{}
	for k := range tRank {
		odd, even = append(odd, 2*k+1), append(even, 2*k)
	}
	for _, c := range []struct {
		direction, scale string
		idxA, idxB       []int
		bScale, aScale   float64
	}{
		{"ArB2r", "unit", span(0, tRank), span(tRank, 2*tRank), 1, 1},
		{"A2rBr", "unit", span(tRank, 2*tRank), span(0, tRank), 1, 1},
		{"ArBr", "unit", odd, even, 1, 1},
		{"ArB2r", "gd_scale", span(0, tRank), span(tRank, 2*tRank), 1 / tScale, 1 / tScale},
		{"ArB2r", "stable", span(0, tRank), span(tRank, 2*tRank), math.Pow(tOut, 0.25) / math.Sqrt(16), 1},
	} {
		opts := DefaultLoRAGAOptions()
		opts.Direction, opts.Scale = c.direction, c.scale
		res, err := LoRAGA(w, g, tRank, tScale, opts)
		must(t, err)
		name := c.direction + "/" + c.scale
		wantAA := projector(t, vt, c.idxA, true)
		scaleAll(wantAA, c.aScale*c.aScale)
		assertClose(t, name+": AᵀA", tmul(t, res.A, res.A), wantAA, 1e-10)
		sq := make([]float64, len(s))
		for i := range s {
			sq[i] = c.bScale * c.bScale * s[i] * s[i]
		}
		us := pickCols(u, c.idxB, nil)
		assertClose(t, name+": B·Bᵀ", mulT(t, res.B, res.B), mulT(t, pickCols(u, c.idxB, pick(sq, c.idxB)), us), 1e-10)
	}

	opts := DefaultLoRAGAOptions()
	opts.Scale = "weight_svd"
	res, err := LoRAGA(w, g, tRank, tScale, opts)
	must(t, err)
	_, ws, _ := svd(t, w)
	norms := tmul(t, res.B, res.B)
	if got := math.Sqrt(norms.At(0, 0)); math.Abs(got-ws[0]) > 1e-6*ws[0] {
		t.Errorf("weight_svd: B's first column norm %.9g, want σ₁(W) = %.9g", got, ws[0])
	}

	opts = DefaultLoRAGAOptions()
	opts.Direction, opts.Seed = "random", 4
	r1, err := LoRAGA(w, g, tRank, tScale, opts)
	must(t, err)
	r2, err := LoRAGA(w, g, tRank, tScale, opts)
	must(t, err)
	if relDiff(r1.A, r2.A) != 0 || relDiff(r1.B, r2.B) != 0 {
		t.Error("random direction: equal seeds gave different factors")
	}
	assertClose(t, "random: A·Aᵀ", mulT(t, r1.A, r1.A), linalg.Identity(tRank), 1e-10)
}

func pick(v []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = v[i]
	}
	return out
}

// TestLoRAGAErrors checks the 2r ≤ min(out, in) bound, shapes and option validation.
func TestLoRAGAErrors(t *testing.T) {
	w, g := gaussian(tOut, tIn, 34), testGrad(t, 35)
	if _, err := LoRAGA(w, g, tIn/2+1, tScale, DefaultLoRAGAOptions()); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("2r > min: %v, want ErrArgument", err)
	}
	if _, err := LoRAGA(w, g, tIn/2, tScale, DefaultLoRAGAOptions()); err != nil {
		t.Errorf("2r = min: %v", err)
	}
	if _, err := LoRAGA(w, g.T(), tRank, tScale, DefaultLoRAGAOptions()); !errors.Is(err, linalg.ErrShape) {
		t.Errorf("transposed gradient: %v, want ErrShape", err)
	}
	if _, err := LoRAGA(w, nil, tRank, tScale, DefaultLoRAGAOptions()); !errors.Is(err, ErrMissingStats) {
		t.Errorf("nil gradient: %v, want ErrMissingStats", err)
	}
	for _, mod := range []func(*LoRAGAOptions){
		func(o *LoRAGAOptions) { o.Direction = "BrAr" },
		func(o *LoRAGAOptions) { o.Scale = "huge" },
		func(o *LoRAGAOptions) { o.Gamma = 0 },
		func(o *LoRAGAOptions) { o.NIter = -1 },
	} {
		opts := DefaultLoRAGAOptions()
		mod(&opts)
		if _, err := LoRAGA(w, g, tRank, tScale, opts); !errors.Is(err, linalg.ErrArgument) {
			t.Errorf("options %+v: %v, want ErrArgument", opts, err)
		}
	}
}

// TestLoRAOne checks LoRA-One's formula against an independent SVD: B·A = −G_r/(γ·σ₁), so the
// initial update is s·B·A = −(s/γ)·G_r/σ₁; the factors are balanced (BᵀB = A·Aᵀ = diag(σ_r)/(σ₁γ));
// there is no offset; and the result ignores the gradient's scale.
func TestLoRAOne(t *testing.T) {
	g := testGrad(t, 40)
	const gamma = 64
	res, err := LoRAOne(g, tRank, gamma)
	must(t, err)
	assertShapes(t, res, tOut, tIn, tRank)
	if res.Offset {
		t.Error("LoRA-One sets Offset")
	}
	u, s, vt := svd(t, g)
	want := triplets(t, u, s, vt, span(0, tRank))
	scaleAll(want, -tScale/(gamma*s[0]))
	assertClose(t, "s·B·A vs −(s/γ)·G_r/σ₁", update(t, res, tScale), want, 1e-12)
	bal := make([]float64, tRank)
	for i := range bal {
		bal[i] = s[i] / (s[0] * gamma)
	}
	assertDiag(t, "BᵀB", tmul(t, res.B, res.B), bal)
	assertDiag(t, "A·Aᵀ", mulT(t, res.A, res.A), bal)

	big := g.Clone()
	scaleAll(big, 1e4)
	res2, err := LoRAOne(big, tRank, gamma)
	must(t, err)
	assertClose(t, "B·A with G×1e4", update(t, res2, 1), update(t, res, 1), 1e-12)

	if _, err := LoRAOne(linalg.NewDense(tOut, tIn), tRank, gamma); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("zero gradient: %v, want ErrArgument", err)
	}
	if _, err := LoRAOne(g, tRank, 0); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("γ = 0: %v, want ErrArgument", err)
	}
	bad := g.Clone()
	bad.Set(0, 0, math.Inf(-1))
	if _, err := LoRAOne(bad, tRank, gamma); !errors.Is(err, linalg.ErrNonFinite) {
		t.Errorf("−Inf gradient: %v, want ErrNonFinite", err)
	}
}
