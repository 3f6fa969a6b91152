package inits

import (
	"errors"
	"math"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// uniform returns n copies of v.
func uniform(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// naturalTarget returns LoRA-DA's ΔŴ = −D_y⁻¹·G·Z⁻¹/σ_max and σ_max, computed independently.
func naturalTarget(t *testing.T, g, cov *linalg.Dense, outGradSq []float64, damping float64) (*linalg.Dense, float64) {
	t.Helper()
	z := cov.Clone()
	for i := range z.Rows {
		z.Data[i*z.Cols+i] += damping
	}
	d := mul(t, g, inverse(t, z))
	for j := range d.Rows {
		row := d.Row(j)
		for k := range row {
			row[k] *= -1 / (outGradSq[j] + damping)
		}
	}
	_, s, _ := svd(t, d)
	scaleAll(d, 1/s[0])
	return d, s[0]
}

// TestLoRADAReducesToLoRAOne checks the paper's reduction: with β = 0, Z = I and a uniform D_y,
// LoRA-DA's B·A equals LoRA-One's −G_r/(γ·σ₁) for the same γ, and A's rows span G's leading right
// singular vectors (γ·AᵀA is their projector).
func TestLoRADAReducesToLoRAOne(t *testing.T) {
	g := testGrad(t, 50)
	opts := DefaultLoRADAOptions()
	opts.Beta, opts.Gamma = 0, 64
	res, err := LoRADA(g, linalg.Identity(tIn), uniform(tOut, 0.3), tRank, opts)
	must(t, err)
	assertShapes(t, res, tOut, tIn, tRank)
	if res.Offset {
		t.Error("LoRA-DA sets Offset")
	}
	one, err := LoRAOne(g, tRank, 64)
	must(t, err)
	assertClose(t, "LoRA-DA B·A vs LoRA-One B·A", update(t, res, 1), update(t, one, 1), 1e-9)
	_, _, vt := svd(t, g)
	proj := tmul(t, res.A, res.A)
	scaleAll(proj, 64)
	assertClose(t, "γ·AᵀA vs projector on G's top right vectors", proj, projector(t, vt, span(0, tRank), true), 1e-9)
}

// TestLoRADAVarianceTerm checks the variance term alone (bias strength 0): the r smallest
// eigenvectors of β·c·Z⁻¹ are Z's r largest, so A's rows span the top-r eigenvectors of the input
// covariance (the highest-variance input directions), and B·A = ΔŴ·AᵀA with ΔŴ computed
// independently.
func TestLoRADAVarianceTerm(t *testing.T) {
	g := testGrad(t, 51)
	c := calibCov(t, tIn, 64, 52)
	ogs := make([]float64, tOut)
	for j := range ogs {
		ogs[j] = 0.1 + float64(j)/10
	}
	opts := LoRADAOptions{Beta: 1, BiasAlpha: 0, Damping: 1e-6, Gamma: 1024, Population: 1}
	res, err := LoRADA(g, c, ogs, tRank, opts)
	must(t, err)
	_, vecs, err := linalg.SymEig(c)
	must(t, err)
	proj := tmul(t, res.A, res.A)
	scaleAll(proj, opts.Gamma)
	assertClose(t, "γ·AᵀA vs projector on Z's top eigenvectors", proj, projector(t, vecs, span(0, tRank), false), 1e-8)
	delta, _ := naturalTarget(t, g, c, ogs, opts.Damping)
	assertClose(t, "B·A vs ΔŴ·AᵀA", update(t, res, 1), mul(t, delta, tmul(t, res.A, res.A)), 1e-8)
}

// TestLoRADAGuidance checks the full method with the reference's defaults (β = 0.03) against an independent
// computation of Ω = −ΔŴᵀΔŴ + β·c·Z⁻¹: √γ·A has orthonormal rows that are eigenvectors of Ω for its r
// smallest eigenvalues, each with its largest-magnitude entry positive, and B·A = ΔŴ·AᵀA.
func TestLoRADAGuidance(t *testing.T) {
	g := testGrad(t, 53)
	c := calibCov(t, tIn, 64, 54)
	ogs := make([]float64, tOut)
	for j := range ogs {
		ogs[j] = 1 + float64(j%5)
	}
	opts := DefaultLoRADAOptions()
	opts.Population = 1 // with these statistics the bias and variance terms have similar norms (1.1 and 0.9)
	res, err := LoRADA(g, c, ogs, tRank, opts)
	must(t, err)
	assertShapes(t, res, tOut, tIn, tRank)

	delta, sigma := naturalTarget(t, g, c, ogs, opts.Damping)
	z := c.Clone()
	for i := range tIn {
		z.Data[i*tIn+i] += opts.Damping
	}
	trace := 0.0
	for _, v := range ogs {
		trace += 1 / (v + opts.Damping)
	}
	cvar := trace / float64(opts.Population) / (sigma * sigma)
	omega := tmul(t, delta, delta)
	scaleAll(omega, -opts.BiasAlpha)
	omega = add(omega, inverse(t, z), opts.Beta*cvar) // Ω = −α·ΔŴᵀΔŴ + β·c·Z⁻¹
	eig, _, err := linalg.SymEig(omega)
	must(t, err)

	a := res.A.Clone()
	scaleAll(a, math.Sqrt(opts.Gamma))
	assertClose(t, "√γ·A·Aᵀ√γ vs I", mulT(t, a, a), linalg.Identity(tRank), 1e-10)
	for k := range tRank {
		row := a.Row(k)
		vec, _ := linalg.Wrap(tIn, 1, append([]float64(nil), row...))
		want := eig[tIn-1-k]
		image := mul(t, omega, vec)
		scaleAll(vec, want)
		assertClose(t, "Ω·a_k vs μ_k·a_k", image, vec, 1e-8)
		big := 0.0
		for _, v := range row {
			if math.Abs(v) > math.Abs(big) {
				big = v
			}
		}
		if big < 0 {
			t.Errorf("row %d's largest-magnitude entry %g is negative", k, big)
		}
	}
	assertClose(t, "B·A vs ΔŴ·AᵀA", update(t, res, 1), mul(t, delta, tmul(t, res.A, res.A)), 1e-8)
}

// TestLoRADAErrors checks missing statistics and invalid options.
func TestLoRADAErrors(t *testing.T) {
	g, c := testGrad(t, 55), linalg.Identity(tIn)
	ogs := uniform(tOut, 1)
	opts := DefaultLoRADAOptions()
	opts.Population = 10
	if _, err := LoRADA(g, c, nil, tRank, opts); !errors.Is(err, ErrMissingStats) {
		t.Errorf("nil OutGradSq: %v, want ErrMissingStats", err)
	}
	if _, err := LoRADA(g, nil, ogs, tRank, opts); !errors.Is(err, ErrMissingStats) {
		t.Errorf("nil Cov: %v, want ErrMissingStats", err)
	}
	if _, err := LoRADA(g, c, ogs[:3], tRank, opts); !errors.Is(err, linalg.ErrShape) {
		t.Errorf("short OutGradSq: %v, want ErrShape", err)
	}
	neg := uniform(tOut, 1)
	neg[2] = -1
	if _, err := LoRADA(g, c, neg, tRank, opts); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("negative OutGradSq: %v, want ErrArgument", err)
	}
	nan := uniform(tOut, 1)
	nan[0] = math.NaN()
	if _, err := LoRADA(g, c, nan, tRank, opts); !errors.Is(err, linalg.ErrNonFinite) {
		t.Errorf("NaN OutGradSq: %v, want ErrNonFinite", err)
	}
	indefinite := linalg.Identity(tIn)
	indefinite.Set(4, 4, -1)
	if _, err := LoRADA(g, indefinite, ogs, tRank, opts); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("indefinite Cov: %v, want ErrArgument", err)
	}
	for _, mod := range []func(*LoRADAOptions){
		func(o *LoRADAOptions) { o.Population = 0 },
		func(o *LoRADAOptions) { o.Beta, o.BiasAlpha = 0, 0 },
		func(o *LoRADAOptions) { o.Damping = 0 },
		func(o *LoRADAOptions) { o.Gamma = -1 },
		func(o *LoRADAOptions) { o.Beta = -0.1 },
	} {
		o := opts
		mod(&o)
		if _, err := LoRADA(g, c, ogs, tRank, o); !errors.Is(err, linalg.ErrArgument) {
			t.Errorf("options %+v: %v, want ErrArgument", o, err)
		}
	}
	if _, err := LoRADA(g, c, ogs, tIn+1, opts); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("r > min: %v, want ErrArgument", err)
	}
}
