package lora

import (
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

// TestAdapterGradients checks dA, dB and dx of a Linear layer with a LoRA adapter (plain and
// rsLoRA) against finite differences of L = Σ r·y.
func TestAdapterGradients(t *testing.T) {
	for _, rs := range []bool{false, true} {
		be, rng := cpu.New(), rand.New(rand.NewPCG(9, 10))
		const N, In, Out, R = 6, 7, 5, 3
		l, _ := nn.NewLinear("l", randTensor(be, rng, Out, In), nil)
		ad, err := New(l, randTensor(be, rng, R, In), randTensor(be, rng, Out, R), 6, rs)
		if err != nil {
			t.Fatal(err)
		}
		ad.RequestGrads(be)
		l.Adapter = ad
		ctx := &nn.Context{Backend: be}
		x, r, y := randTensor(be, rng, N, In), randTensor(be, rng, N, Out), be.Zeros(N, Out)
		loss := func() float64 {
			l.Forward(ctx, x, y)
			s := 0.0
			for i, v := range be.ToHost(y) {
				s += float64(v) * float64(cpu.Data(r)[i])
			}
			return s
		}
		loss()
		dx := be.Zeros(N, In)
		l.Backward(ctx, x, r, dx)
		for _, c := range []struct {
			name string
			p, g *tensor.Tensor
		}{{"A", ad.A, ad.GradA}, {"B", ad.B, ad.GradB}, {"x", x, dx}} {
			res := gradcheck.Check(cpu.Data(c.p), cpu.Data(c.g), gradcheck.Spread(c.p.Len(), 30), 1e-2, loss)
			if res.Err > 2e-3 {
				t.Errorf("rslora=%v d%s: %v", rs, c.name, res)
			}
		}
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
