package lora

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/internal/gradcheck"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

func randTensor(be *cpu.Backend, rng *rand.Rand, shape ...int) *tensor.Tensor {
	d := make([]float32, tensor.Numel(shape))
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return be.FromHost(d, shape...)
}

// layerCase is a Linear layer with a bias and an adapter, and a loss L = Σ r·y over its output.
type layerCase struct {
	be      *cpu.Backend
	l       *nn.Linear
	ad      *Adapter
	ctx     *nn.Context
	x, r, y *tensor.Tensor
}

const caseN, caseIn, caseOut, caseR = 6, 7, 5, 3

func newLayerCase(t *testing.T, seed uint64, rslora, dora bool, dropout float32) *layerCase {
	t.Helper()
	be, rng := cpu.New(), rand.New(rand.NewPCG(seed, 10))
	l, _ := nn.NewLinear("model.layers.0.mlp.up_proj", randTensor(be, rng, caseOut, caseIn), randTensor(be, rng, caseOut))
	ad, err := New(l, randTensor(be, rng, caseR, caseIn), randTensor(be, rng, caseOut, caseR), 6, rslora)
	if err != nil {
		t.Fatal(err)
	}
	if dora {
		ad.InitMagnitude(be)
		m := be.ToHost(ad.Magnitude)
		for i := range m {
			m[i] *= 1 + 0.3*float32(rng.NormFloat64())
		}
		if err := ad.SetMagnitude(be.FromHost(m, caseOut)); err != nil {
			t.Fatal(err)
		}
	}
	ad.Dropout = dropout
	ad.RequestGrads(be)
	l.Adapter = ad
	return &layerCase{be: be, l: l, ad: ad, ctx: &nn.Context{Backend: be, Training: true, Seed: 99},
		x: randTensor(be, rng, caseN, caseIn), r: randTensor(be, rng, caseN, caseOut), y: be.Zeros(caseN, caseOut)}
}

func (c *layerCase) loss() float64 {
	c.l.Forward(c.ctx, c.x, c.y)
	s := 0.0
	for i, v := range c.be.ToHost(c.y) {
		s += float64(v) * float64(cpu.Data(c.r)[i])
	}
	return s
}

// backward runs one forward and backward pass and returns dx.
func (c *layerCase) backward() *tensor.Tensor {
	c.loss()
	dx := c.be.Zeros(caseN, caseIn)
	c.l.Backward(c.ctx, c.x, c.r, dx)
	return dx
}

func checkGrads(t *testing.T, what string, loss func() float64, cases map[string][2]*tensor.Tensor) {
	t.Helper()
	for name, pg := range cases {
		res := gradcheck.Check(cpu.Data(pg[0]), cpu.Data(pg[1]), gradcheck.Spread(pg[0].Len(), 30), 1e-2, loss)
		if res.Err > 2e-3 {
			t.Errorf("%s d%s: %v", what, name, res)
		}
	}
}

// TestAdapterGradients checks dA, dB and dx of a Linear layer (with bias) and a LoRA adapter —
// plain, rsLoRA and with dropout (the mask is fixed by the pass's seed) — against finite
// differences of L = Σ r·y.
func TestAdapterGradients(t *testing.T) {
	for _, v := range []struct {
		name    string
		rslora  bool
		dropout float32
	}{{"plain", false, 0}, {"rslora", true, 0}, {"dropout", false, 0.3}} {
		c := newLayerCase(t, 9, v.rslora, false, v.dropout)
		dx := c.backward()
		checkGrads(t, v.name, c.loss, map[string][2]*tensor.Tensor{
			"A": {c.ad.A, c.ad.GradA}, "B": {c.ad.B, c.ad.GradB}, "x": {c.x, dx}})
	}
}

// TestDoRAGradients checks DoRA's gradients. The weight norm does not depend on the magnitude or the
// input, so dm and dx are compared with finite differences of the true loss. A and B are not: like
// PEFT, eva treats the norm as a constant in the backward pass. With c = m/‖W + s·B·A‖ held fixed the
// layer equals a plain LoRA layer with weight c ⊙ W, B' = c ⊙ B and bias b, so dA must equal that
// layer's dA and dB must equal c ⊙ dB', both from finite differences.
func TestDoRAGradients(t *testing.T) {
	for _, dropout := range []float32{0, 0.3} {
		c := newLayerCase(t, 11, false, true, dropout)
		dx := c.backward()
		checkGrads(t, "DoRA", c.loss, map[string][2]*tensor.Tensor{
			"m": {c.ad.Magnitude, c.ad.GradMagnitude}, "x": {c.x, dx}})
		if dropout > 0 {
			continue // the equivalent plain layer below has no dropout form
		}
		be := c.be
		c.loss() // the finite differences left y and c from a perturbed pass
		scale := be.ToHost(c.ad.c)
		cw := be.Zeros(caseOut, caseIn)
		be.ScaleRows(cw, c.l.W, c.ad.c)
		cb := be.Zeros(caseOut, caseR)
		be.ScaleRows(cb, c.ad.B, c.ad.c)
		plain, _ := nn.NewLinear(c.l.Name, cw, c.l.B)
		pa, _ := New(plain, c.ad.A, cb, c.ad.Alpha, false)
		plain.Adapter = pa
		p := &layerCase{be: be, l: plain, ad: pa, ctx: c.ctx, x: c.x, r: c.r, y: be.Zeros(caseN, caseOut)}
		if d := maxDiff(be.ToHost(c.y), func() []float32 { p.loss(); return be.ToHost(p.y) }()); d > 1e-5 {
			t.Fatalf("equivalent plain layer differs by %g", d)
		}
		dB := be.ToHost(c.ad.GradB)
		for i := range dB {
			dB[i] /= scale[i/caseR] // dB' = dB / c
		}
		checkGrads(t, "DoRA (norm fixed)", p.loss, map[string][2]*tensor.Tensor{
			"A": {pa.A, c.ad.GradA}, "B": {cb, be.FromHost(dB, caseOut, caseR)}})
	}
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestMerge checks that a merged layer computes what the adapter computed (plain and DoRA), that the
// merged adapter adds nothing more, and that Unmerge restores the weight.
func TestMerge(t *testing.T) {
	for _, dora := range []bool{false, true} {
		c := newLayerCase(t, 13, false, dora, 0)
		c.ctx.Training = false
		c.loss()
		want := c.be.ToHost(c.y)
		w0 := c.be.ToHost(c.l.W)
		c.ad.Merge(c.be)
		c.ad.Merge(c.be) // a second Merge is a no-op
		c.loss()
		if d := maxDiff(want, c.be.ToHost(c.y)); d > 1e-5 {
			t.Errorf("dora=%v: merged output differs by %g", dora, d)
		}
		c.ad.Unmerge(c.be)
		if d := maxDiff(w0, c.be.ToHost(c.l.W)); d > 1e-5 {
			t.Errorf("dora=%v: unmerged weight differs by %g", dora, d)
		}
		c.loss()
		if d := maxDiff(want, c.be.ToHost(c.y)); d > 1e-5 {
			t.Errorf("dora=%v: output after unmerge differs by %g", dora, d)
		}
	}
}

// TestDoRAInitIsIdentity: with the magnitude initialised to the weight norm, DoRA leaves the output
// of a layer with B = 0 unchanged.
func TestDoRAInitIsIdentity(t *testing.T) {
	c := newLayerCase(t, 17, false, false, 0)
	c.be.Fill(c.ad.B, 0)
	c.loss()
	want := c.be.ToHost(c.y)
	c.ad.InitMagnitude(c.be)
	c.loss()
	if d := maxDiff(want, c.be.ToHost(c.y)); d > 1e-5 {
		t.Errorf("DoRA at init changes the output by %g", d)
	}
}

func TestScale(t *testing.T) {
	a := &Adapter{Rank: 4, Alpha: 8}
	if a.Scale() != 2 {
		t.Errorf("alpha/r = %v", a.Scale())
	}
	a.RSLoRA = true
	if a.Scale() != 4 {
		t.Errorf("alpha/√r = %v", a.Scale())
	}
}

func TestNewRejectsWrongShapes(t *testing.T) {
	be := cpu.New()
	l, _ := nn.NewLinear("model.layers.0.mlp.up_proj", be.Zeros(5, 4), nil)
	if _, err := New(l, be.Zeros(2, 3), be.Zeros(5, 2), 1, false); err == nil {
		t.Error("A with the wrong input size accepted")
	}
	if _, err := New(l, be.Zeros(2, 4), be.Zeros(5, 3), 1, false); err == nil {
		t.Error("B with the wrong rank accepted")
	}
}
