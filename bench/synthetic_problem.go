package bench

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eva-lora/eva/linalg"
	"github.com/eva-lora/eva/lora/inits"
)

// problem is one draw of the teacher–student problem.
type problem struct {
	d          int
	floor      float64
	q          *linalg.Dense // d×spikes: Σ's spiked directions, by decreasing variance
	lambda     []float64     // their variances
	sampleGain []float64     // √λ_k − √floor: x = √floor·g + Q·diag(gain)·Qᵀ·g for g ~ N(0, I)
	s          *linalg.Dense // d×spikes: Q·diag(√(λ − floor)), so Σ = floor·I + S·Sᵀ
	w0         *linalg.Dense // d×d pretrained weight
	w0Right    *linalg.Dense // d×DeltaRank: W0's top right singular vectors
	rows       *linalg.Dense // d×DeltaRank: orthonormal basis of ΔW's row space
	left       *linalg.Dense // d×DeltaRank: U_Δ·diag(δ), so ΔW = left·rowsᵀ
	noiseVar   float64
	ref        float64 // population loss of W0 (noise included): the normaliser
}

// newProblem draws Σ and W0 from seed and ΔW from (seed, regime).
func newProblem(cfg SyntheticConfig, regime synthRegime, seed uint64) (*problem, error) {
	rng := rand.New(rand.NewPCG(seed, 0x73796e7468)) // "synth"
	d := cfg.D
	p := &problem{d: d, floor: cfg.Floor, lambda: make([]float64, cfg.Spikes), sampleGain: make([]float64, cfg.Spikes)}
	var err error
	if p.q, err = randomOrthonormal(rng, d, cfg.Spikes); err != nil {
		return nil, err
	}
	p.s = p.q.Clone()
	for k := range cfg.Spikes {
		frac := 0.0
		if cfg.Spikes > 1 {
			frac = float64(k) / float64(cfg.Spikes-1)
		}
		p.lambda[k] = cfg.SpikeHigh * math.Pow(cfg.SpikeLow/cfg.SpikeHigh, frac)
		p.sampleGain[k] = math.Sqrt(p.lambda[k]) - math.Sqrt(cfg.Floor)
		scaleCol(p.s, k, math.Sqrt(p.lambda[k]-cfg.Floor))
	}
	u0, err := randomOrthonormal(rng, d, d)
	if err != nil {
		return nil, err
	}
	v0, err := randomOrthonormal(rng, d, d)
	if err != nil {
		return nil, err
	}
	for i := range d {
		scaleCol(u0, i, cfg.W0Top*math.Pow(float64(i+1), -cfg.W0Decay))
	}
	if p.w0, err = linalg.MulT(u0, v0); err != nil {
		return nil, err
	}
	p.w0Right = firstCols(v0, cfg.DeltaRank)
	// ΔW draws from its own stream so that every regime shares Σ and W0.
	drng := rand.New(rand.NewPCG(seed, 0x64656c7461^hashString(regime.Key))) // "delta"
	switch regime.Key {
	case "sigma":
		p.rows = firstCols(p.q, cfg.DeltaRank)
	case "w0":
		p.rows = p.w0Right.Clone()
	case "random":
		if p.rows, err = randomOrthonormal(drng, d, cfg.DeltaRank); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("synthetic suite: unknown regime %q", regime.Key)
	}
	if p.left, err = randomOrthonormal(drng, d, cfg.DeltaRank); err != nil {
		return nil, err
	}
	for k := range cfg.DeltaRank {
		delta := 1.0
		if cfg.DeltaRank > 1 {
			delta = 1 - 0.5*float64(k)/float64(cfg.DeltaRank-1)
		}
		scaleCol(p.left, k, delta)
	}
	excess, err := p.excess(p.deltaFactors(nil))
	if err != nil {
		return nil, err
	}
	p.noiseVar = cfg.NoiseFrac * excess
	p.ref = excess + p.noiseVar
	return p, nil
}

// sample draws n inputs (n×d, one per row) and the residual targets −(W*−W0)·x − ε (n×d): the error
// of W0 itself, from which every model's error follows by adding its low-rank terms.
func (p *problem) sample(rng *rand.Rand, n int) (x, res *linalg.Dense, err error) {
	g := linalg.NewDense(n, p.d)
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	gq, err := linalg.Mul(g, p.q)
	if err != nil {
		return nil, nil, err
	}
	for i := range n {
		row := gq.Row(i)
		for k := range row {
			row[k] *= p.sampleGain[k]
		}
	}
	if x, err = linalg.MulT(gq, p.q); err != nil {
		return nil, nil, err
	}
	sf := math.Sqrt(p.floor)
	for i, v := range g.Data {
		x.Data[i] += sf * v
	}
	xr, err := linalg.Mul(x, p.rows)
	if err != nil {
		return nil, nil, err
	}
	if res, err = linalg.MulT(xr, p.left); err != nil {
		return nil, nil, err
	}
	sd := math.Sqrt(p.noiseVar)
	for i := range res.Data {
		res.Data[i] = -res.Data[i] - sd*rng.NormFloat64()
	}
	return x, res, nil
}

// factors is a low-rank form of M = W0' + s·B·A − W* = F·Gᵀ (F: out×k, G: in×k).
type factors struct{ f, g *linalg.Dense }

// deltaFactors returns the factors of M for an adapter: −ΔW, plus s·B·A (when a is not nil), minus
// s·B0·A0 (when an offset is given). With a nil adapter it is W0's own M = −ΔW.
func (p *problem) deltaFactors(ad *synthAdapter) factors {
	fs := []*linalg.Dense{negated(p.left)}
	gs := []*linalg.Dense{p.rows}
	if ad != nil {
		fs, gs = append(fs, scaled(ad.b, ad.s)), append(gs, ad.a.T())
		if ad.a0 != nil {
			fs, gs = append(fs, scaled(ad.b0, -ad.s)), append(gs, ad.a0.T())
		}
	}
	return factors{f: hcat(fs...), g: hcat(gs...)}
}

// excess returns (1/out)·tr(M·Σ·Mᵀ) = (floor·‖M‖² + ‖M·S‖²)/out for M = F·Gᵀ, through k×k Gram
// matrices: ‖F·Gᵀ‖² = ⟨FᵀF, GᵀG⟩.
func (p *problem) excess(m factors) (float64, error) {
	ff, err := linalg.TMul(m.f, m.f)
	if err != nil {
		return 0, err
	}
	gg, err := linalg.TMul(m.g, m.g)
	if err != nil {
		return 0, err
	}
	gs, err := linalg.TMul(m.g, p.s)
	if err != nil {
		return 0, err
	}
	fgs, err := linalg.Mul(m.f, gs)
	if err != nil {
		return 0, err
	}
	return (p.floor*dot(ff.Data, gg.Data) + dot(fgs.Data, fgs.Data)) / float64(m.f.Rows), nil
}

// loss returns the adapter's population loss (noise included) divided by W0's.
func (p *problem) loss(ad *synthAdapter) (float64, error) {
	e, err := p.excess(p.deltaFactors(ad))
	if err != nil {
		return 0, err
	}
	return (e + p.noiseVar) / p.ref, nil
}

// gradB returns the population gradient ∂L/∂B = (2s/out)·M·Σ·Aᵀ (L unnormalised).
func (p *problem) gradB(ad *synthAdapter) (*linalg.Dense, error) {
	m := p.deltaFactors(ad)
	ag, err := linalg.Mul(ad.a, m.g) // r×k
	if err != nil {
		return nil, err
	}
	gs, err := linalg.TMul(m.g, p.s) // k×spikes
	if err != nil {
		return nil, err
	}
	as, err := linalg.Mul(ad.a, p.s) // r×spikes
	if err != nil {
		return nil, err
	}
	inner, err := linalg.MulT(gs, as) // k×r: Gᵀ·S·Sᵀ·Aᵀ
	if err != nil {
		return nil, err
	}
	for i := range inner.Rows {
		for j := range inner.Cols {
			inner.Data[i*inner.Cols+j] += p.floor * ag.Data[j*ag.Cols+i]
		}
	}
	g, err := linalg.Mul(m.f, inner)
	if err != nil {
		return nil, err
	}
	scaleAll(g, 2*ad.s/float64(m.f.Rows))
	return g, nil
}

// describeInit fills the step-0 measurements of a run: the loss, ‖∂L/∂B‖, and how much of ΔW's row
// space and of Σ's top-r directions A's row space covers.
func (p *problem) describeInit(run *SyntheticRun, res inits.Result, s float64) error {
	ad := newSynthAdapter(res, s, 0)
	l0, err := p.loss(ad)
	if err != nil {
		return err
	}
	g, err := p.gradB(ad)
	if err != nil {
		return err
	}
	run.Loss0 = Float(l0)
	if run.Reachable, err = p.reachable(res, s); err != nil {
		return err
	}
	run.GradB0 = Float(math.Sqrt(dot(g.Data, g.Data)))
	run.GradB0PerA = Float(float64(run.GradB0) / math.Sqrt(dot(res.A.Data, res.A.Data)))
	r := res.A.Rows
	if run.OverlapDelta, err = overlap(res.A, p.rows); err != nil {
		return err
	}
	run.OverlapSigma, err = overlap(res.A, firstCols(p.q, min(r, p.q.Cols)))
	return err
}

// reachable returns the lowest normalised population loss that a rank-r adapter can reach from
// this initialisation: the adapter must bring s·B·A to T = ΔW + s·B0·A0 (offset methods keep the
// part of W0 they removed to carry; T = ΔW otherwise), and by Eckart–Young the best rank-r X leaves
// Σ_{i>r} σ_i²(T·Σ^{1/2}) of (1/out)·‖(T − X)·Σ^{1/2}‖².
func (p *problem) reachable(res inits.Result, s float64) (Float, error) {
	t, err := linalg.MulT(p.left, p.rows) // ΔW
	if err != nil {
		return 0, err
	}
	if res.Offset {
		upd, err := res.Update(s)
		if err != nil {
			return 0, err
		}
		for i, v := range upd.Data {
			t.Data[i] += v
		}
	}
	// T·Σ^{1/2} = √floor·T + (T·Q)·diag(√λ − √floor)·Qᵀ.
	tq, err := linalg.Mul(t, p.q)
	if err != nil {
		return 0, err
	}
	for i := range tq.Rows {
		row := tq.Row(i)
		for k := range row {
			row[k] *= p.sampleGain[k]
		}
	}
	ts, err := linalg.MulT(tq, p.q)
	if err != nil {
		return 0, err
	}
	sf := math.Sqrt(p.floor)
	for i, v := range t.Data {
		ts.Data[i] += sf * v
	}
	_, sv, _, err := linalg.SVD(ts)
	if err != nil {
		return 0, err
	}
	rest := 0.0
	for _, v := range sv[min(res.A.Rows, len(sv)):] {
		rest += v * v
	}
	return Float((rest/float64(t.Rows) + p.noiseVar) / p.ref), nil
}

// overlap is the share of the subspace basis (orthonormal columns, d×k) that A's row space covers:
// ‖basisᵀ·Q_A‖²/min(r, k), where Q_A is an orthonormal basis of A's row space; 1 when one space
// contains the other, about max(r, k)/d for random subspaces.
func overlap(a, basis *linalg.Dense) (Float, error) {
	qa, err := linalg.Orthonormalize(a.T())
	if err != nil {
		return 0, err
	}
	c, err := linalg.TMul(basis, qa)
	if err != nil {
		return 0, err
	}
	return Float(dot(c.Data, c.Data) / float64(min(a.Rows, basis.Cols))), nil
}

// randomOrthonormal returns a d×k matrix with orthonormal columns spanning a uniformly random
// subspace.
func randomOrthonormal(rng *rand.Rand, d, k int) (*linalg.Dense, error) {
	g := linalg.NewDense(d, k)
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	q, err := linalg.Orthonormalize(g)
	if err != nil {
		return nil, errors.Join(errors.New("synthetic suite: random orthonormal basis"), err)
	}
	return q, nil
}

// firstCols returns a copy of the first k columns of m.
func firstCols(m *linalg.Dense, k int) *linalg.Dense {
	out := linalg.NewDense(m.Rows, k)
	for i := range m.Rows {
		copy(out.Row(i), m.Row(i)[:k])
	}
	return out
}

// hcat concatenates matrices with equal row counts side by side.
func hcat(ms ...*linalg.Dense) *linalg.Dense {
	cols := 0
	for _, m := range ms {
		cols += m.Cols
	}
	out := linalg.NewDense(ms[0].Rows, cols)
	for i := range out.Rows {
		dst := out.Row(i)
		for _, m := range ms {
			dst = dst[copy(dst, m.Row(i)):]
		}
	}
	return out
}

// scaleCol multiplies column j of m by c in place.
func scaleCol(m *linalg.Dense, j int, c float64) {
	for i := range m.Rows {
		m.Data[i*m.Cols+j] *= c
	}
}

// scaled returns c·m; negated returns −m.
func scaled(m *linalg.Dense, c float64) *linalg.Dense {
	out := m.Clone()
	scaleAll(out, c)
	return out
}

func negated(m *linalg.Dense) *linalg.Dense { return scaled(m, -1) }

// scaleAll multiplies every entry of m by c in place.
func scaleAll(m *linalg.Dense, c float64) {
	for i := range m.Data {
		m.Data[i] *= c
	}
}

// accumulate returns sum + m (m itself when sum is nil).
func accumulate(sum, m *linalg.Dense) *linalg.Dense {
	if sum == nil {
		return m
	}
	for i, v := range m.Data {
		sum.Data[i] += v
	}
	return sum
}

// dot returns Σ a_i·b_i.
func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// hashString is FNV-1a of s, to derive random streams from names.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}
