package bench

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/eva-lora/eva/linalg"
	"github.com/eva-lora/eva/lora/inits"
)

// synthAdapter is one student of the synthetic suite: the LoRA factors, the frozen initial factors
// of offset methods and Adam's state.
type synthAdapter struct {
	s, lr  float64
	a, b   *linalg.Dense // A: r×d, B: d×r (trained)
	a0, b0 *linalg.Dense // offset methods: the base weight is W0 − s·B0·A0; nil otherwise
	adamA  adamState
	adamB  adamState
	step   int
	curve  []Float // normalised population loss at steps 0, EvalEvery, 2·EvalEvery, …
	failed bool    // the loss became non-finite; training stopped
}

// newSynthAdapter starts a student from an initialisation.
func newSynthAdapter(res inits.Result, s, lr float64) *synthAdapter {
	ad := &synthAdapter{s: s, lr: lr, a: res.A.Clone(), b: res.B.Clone(),
		adamA: newAdam(len(res.A.Data)), adamB: newAdam(len(res.B.Data))}
	if res.Offset {
		ad.a0, ad.b0 = res.A.Clone(), res.B.Clone()
	}
	return ad
}

// studentGrad is one student's batch loss and gradients; loss is NaN or ±Inf when it diverged.
type studentGrad struct {
	loss   float64
	gA, gB []float64
}

// batchGrads returns every student's batch loss and gradients (x: n×d inputs, res: n×out errors of
// W0). A student's error is e = (W0' + s·B·A − W*)·x − ε = res + Hk·Cᵀ, with Hk = x·[A; A0]ᵀ (n×k)
// and C = [s·B, −s·B0] (out×k; the A0 and B0 parts only for offset methods), and its batch loss is
// (1/(n·out))·Σ‖e‖². With H = x·Aᵀ and c = 2s/(n·out):
//
//	∂/∂B = c·eᵀ·H = c·(resᵀ·H + C·(Hkᵀ·H))
//	∂/∂A = c·(e·B)ᵀ·x, e·B = res·B + Hk·(Cᵀ·B)
//	Σ‖e‖² = ‖res‖² + 2⟨resᵀ·Hk, C⟩ + ⟨Hkᵀ·Hk, Cᵀ·C⟩
//
// so no student needs its n×out error: the products with x and res are stacked over all students
// (one call each) and the per-student ones are k×k or n×r.
func batchGrads(models []*synthAdapter, x, res *linalg.Dense) ([]studentGrad, error) {
	n, out, rowsAll, rowsA := x.Rows, res.Cols, 0, 0
	for _, m := range models {
		rowsAll += m.a.Rows
		rowsA += m.a.Rows
		if m.a0 != nil {
			rowsAll += m.a0.Rows
		}
	}
	stack := linalg.NewDense(rowsAll, x.Cols) // every A and A0, one row per component
	bs := make([]*linalg.Dense, len(models))
	off := 0
	for j, m := range models {
		off += copy(stack.Data[off:], m.a.Data)
		if m.a0 != nil {
			off += copy(stack.Data[off:], m.a0.Data)
		}
		bs[j] = m.b
	}
	h, err := linalg.MulT(x, stack) // n×rowsAll
	if err != nil {
		return nil, err
	}
	p, err := linalg.TMul(res, h) // out×rowsAll: resᵀ·h
	if err != nil {
		return nil, err
	}
	rb, err := linalg.Mul(res, hcat(bs...)) // n×rowsA: res·B of every student
	if err != nil {
		return nil, err
	}
	resSq := dot(res.Data, res.Data)
	eb := linalg.NewDense(n, rowsA) // every student's c·e·B, side by side
	grads := make([]studentGrad, len(models))
	hc, bc := 0, 0
	for j, m := range models {
		r, k := m.a.Rows, m.a.Rows
		coef := scaled(m.b, m.s)
		if m.a0 != nil {
			k += m.a0.Rows
			coef = hcat(coef, scaled(m.b0, -m.s))
		}
		hk, pk := subCols(h, hc, k), subCols(p, hc, k)
		hh, err := linalg.TMul(hk, hk) // k×k
		if err != nil {
			return nil, err
		}
		cc, err := linalg.TMul(coef, coef) // k×k; its first r columns are s·Cᵀ·B
		if err != nil {
			return nil, err
		}
		grads[j].loss = (resSq + 2*dot(pk.Data, coef.Data) + dot(hh.Data, cc.Data)) / float64(n*out)
		c := 2 * m.s / float64(n*out)
		gB, err := linalg.Mul(coef, subCols(hh, 0, r)) // out×r: C·(Hkᵀ·H)
		if err != nil {
			return nil, err
		}
		for i := range out {
			row, pr := gB.Row(i), pk.Row(i)[:r]
			for q := range row {
				row[q] = c * (row[q] + pr[q])
			}
		}
		grads[j].gB = gB.Data
		ctb := subCols(cc, 0, r)
		scaleAll(ctb, 1/m.s)
		hctb, err := linalg.Mul(hk, ctb) // n×r: Hk·(Cᵀ·B)
		if err != nil {
			return nil, err
		}
		for i := range n {
			dst, src, add := eb.Row(i)[bc:bc+r], rb.Row(i)[bc:bc+r], hctb.Row(i)
			for q := range dst {
				dst[q] = c * (src[q] + add[q])
			}
		}
		hc, bc = hc+k, bc+r
	}
	gA, err := linalg.TMul(eb, x) // rowsA×d: every student's c·(e·B)ᵀ·x, stacked
	if err != nil {
		return nil, err
	}
	row := 0
	for j, m := range models {
		grads[j].gA = gA.Data[row*x.Cols : (row+m.a.Rows)*x.Cols]
		row += m.a.Rows
	}
	return grads, nil
}

// stepAll takes one Adam step for every student that has not diverged; a non-finite batch loss
// marks a student as diverged and stops it.
func stepAll(models []*synthAdapter, x, res *linalg.Dense) error {
	var live []*synthAdapter
	for _, m := range models {
		if !m.failed {
			live = append(live, m)
		}
	}
	if len(live) == 0 {
		return nil
	}
	grads, err := batchGrads(live, x, res)
	if err != nil {
		return err
	}
	for j, m := range live {
		if g := grads[j]; math.IsNaN(g.loss) || math.IsInf(g.loss, 0) {
			m.failed = true
			continue
		}
		m.step++
		m.adamA.apply(m.a.Data, grads[j].gA, m.lr, m.step)
		m.adamB.apply(m.b.Data, grads[j].gB, m.lr, m.step)
	}
	return nil
}

// train runs every student for cfg.Steps steps on one stream of batches (each batch is shared by
// all), recording the normalised population loss at step 0 and every cfg.EvalEvery steps.
func (p *problem) train(ctx context.Context, rng *rand.Rand, cfg SyntheticConfig, models []*synthAdapter) error {
	record := func() error {
		for _, m := range models {
			l := math.Inf(1)
			if !m.failed {
				v, err := p.loss(m)
				if err != nil {
					return err
				}
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					l = v
				}
			}
			m.curve = append(m.curve, Float(l))
		}
		return nil
	}
	if err := record(); err != nil {
		return err
	}
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, res, err := p.sample(rng, cfg.Batch)
		if err != nil {
			return err
		}
		if err := stepAll(models, x, res); err != nil {
			return err
		}
		if step%cfg.EvalEvery == 0 {
			if err := record(); err != nil {
				return err
			}
		}
	}
	return nil
}

// subCols returns a copy of columns [from, from+k) of m.
func subCols(m *linalg.Dense, from, k int) *linalg.Dense {
	out := linalg.NewDense(m.Rows, k)
	for i := range m.Rows {
		copy(out.Row(i), m.Row(i)[from:from+k])
	}
	return out
}

// adamState holds Adam's moment estimates (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, no weight decay).
type adamState struct{ m, v []float64 }

func newAdam(n int) adamState { return adamState{m: make([]float64, n), v: make([]float64, n)} }

// apply takes Adam step t (1-based, bias-corrected) on w with gradient g.
func (st adamState) apply(w, g []float64, lr float64, t int) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	c1, c2 := 1-math.Pow(b1, float64(t)), 1-math.Pow(b2, float64(t))
	for i, gi := range g {
		st.m[i] = b1*st.m[i] + (1-b1)*gi
		st.v[i] = b2*st.v[i] + (1-b2)*gi*gi
		w[i] -= lr * (st.m[i] / c1) / (math.Sqrt(st.v[i]/c2) + eps)
	}
}
