package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/internal/gradcheck"
	"github.com/eva-lora/eva/tensor"
)

func randTensor(be *cpu.Backend, rng *rand.Rand, scale float32, shape ...int) *tensor.Tensor {
	d := make([]float32, tensor.Numel(shape))
	for i := range d {
		d[i] = float32(rng.NormFloat64()) * scale
	}
	return be.FromHost(d, shape...)
}

// weighted returns Σ r·y in float64, the scalar loss whose gradient w.r.t. y is r.
func weighted(be *cpu.Backend, r, y *tensor.Tensor) float64 {
	s := 0.0
	rv, yv := be.ToHost(r), be.ToHost(y)
	for i := range rv {
		s += float64(rv[i]) * float64(yv[i])
	}
	return s
}

// checkGrad asserts the analytic gradient of a tensor matches finite differences of loss.
func checkGrad(t *testing.T, name string, p, g *tensor.Tensor, loss func() float64) {
	t.Helper()
	res := gradcheck.Check(cpu.Data(p), cpu.Data(g), gradcheck.Spread(p.Len(), 40), 1e-2, loss)
	if res.Err > 2e-3 {
		t.Errorf("%s: %v", name, res)
	}
}

func TestLinearBackward(t *testing.T) {
	be, rng := cpu.New(), rand.New(rand.NewPCG(1, 2))
	const N, In, Out = 5, 7, 3
	l, err := NewLinear("test", randTensor(be, rng, 0.5, Out, In), randTensor(be, rng, 0.5, Out))
	if err != nil {
		t.Fatal(err)
	}
	l.RequestGrads(be)
	ctx := &Context{Backend: be}
	x, r, y := randTensor(be, rng, 1, N, In), randTensor(be, rng, 1, N, Out), be.Zeros(N, Out)
	loss := func() float64 { l.Forward(ctx, x, y); return weighted(be, r, y) }
	dx := be.Zeros(N, In)
	loss()
	l.Backward(ctx, x, r, dx)
	checkGrad(t, "dx", x, dx, loss)
	checkGrad(t, "dW", l.W, l.GradW, loss)
	checkGrad(t, "dB", l.B, l.GradB, loss)
}

func TestLinearRejectsBadShapes(t *testing.T) {
	be := cpu.New()
	if _, err := NewLinear("w", be.Zeros(3), nil); err == nil {
		t.Error("1-D weight accepted")
	}
	if _, err := NewLinear("w", be.Zeros(3, 4), be.Zeros(4)); err == nil {
		t.Error("bias of the input size accepted")
	}
}

type recordingCapture struct{ calls []string }

func (c *recordingCapture) Observe(ctx *Context, name string, x *tensor.Tensor) {
	c.calls = append(c.calls, name)
}

func TestLinearCaptureSeesInput(t *testing.T) {
	be := cpu.New()
	l, _ := NewLinear("model.layers.0.mlp.up_proj", be.Zeros(2, 3), nil)
	c := &recordingCapture{}
	l.Capture = c
	l.Forward(&Context{Backend: be}, be.Zeros(4, 3), be.Zeros(4, 2))
	if len(c.calls) != 1 || c.calls[0] != l.Name {
		t.Fatalf("capture calls %v", c.calls)
	}
}

func TestRMSNormBackward(t *testing.T) {
	be, rng := cpu.New(), rand.New(rand.NewPCG(3, 4))
	const N, D = 4, 9
	n := &RMSNorm{Name: "norm", W: randTensor(be, rng, 1, D), Eps: 1e-5}
	n.RequestGrads(be)
	ctx := &Context{Backend: be}
	x, r := randTensor(be, rng, 1, N, D), randTensor(be, rng, 1, N, D)
	out, rstd := be.Zeros(N, D), be.Zeros(N)
	loss := func() float64 { n.Forward(ctx, x, out, rstd); return weighted(be, r, out) }
	loss()
	dx := be.Zeros(N, D)
	n.Backward(ctx, x, rstd, r, dx)
	checkGrad(t, "dx", x, dx, loss)
	checkGrad(t, "dW", n.W, n.GradW, loss)
}

func TestLayerNormBackward(t *testing.T) {
	be, rng := cpu.New(), rand.New(rand.NewPCG(5, 6))
	const N, D = 4, 9
	n := &LayerNorm{Name: "ln", W: randTensor(be, rng, 1, D), B: randTensor(be, rng, 1, D), Eps: 1e-5}
	n.RequestGrads(be)
	ctx := &Context{Backend: be}
	x, r := randTensor(be, rng, 1, N, D), randTensor(be, rng, 1, N, D)
	out, mean, rstd := be.Zeros(N, D), be.Zeros(N), be.Zeros(N)
	loss := func() float64 { n.Forward(ctx, x, out, mean, rstd); return weighted(be, r, out) }
	loss()
	dx := be.Zeros(N, D)
	n.Backward(ctx, x, mean, rstd, r, dx)
	checkGrad(t, "dx", x, dx, loss)
	checkGrad(t, "dW", n.W, n.GradW, loss)
	checkGrad(t, "dB", n.B, n.GradB, loss)
}

func TestEmbeddingBackward(t *testing.T) {
	be, rng := cpu.New(), rand.New(rand.NewPCG(7, 8))
	e := &Embedding{Name: "emb", Table: randTensor(be, rng, 1, 6, 4)}
	e.RequestGrads(be)
	ctx := &Context{Backend: be}
	ids := []int32{3, 0, 3, 5}
	r, out := randTensor(be, rng, 1, 4, 4), be.Zeros(4, 4)
	loss := func() float64 { e.Forward(ctx, ids, out); return weighted(be, r, out) }
	loss()
	e.Backward(ctx, ids, r)
	checkGrad(t, "dTable", e.Table, e.Grad, loss)
}
