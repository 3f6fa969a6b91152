package cpu

import (
	"math"

	"github.com/eva-lora/eva/tensor"
)

// Activations compute in float64 per element (as cheap as float32 for scalar code) and store float32.

// elementCost is the rough cost of one transcendental element, for parallelFor.
const elementCost = 16

// SwiGLUForward computes out = silu(gate)·up with silu(g) = g·sigmoid(g); all operands [N, F].
func (be *Backend) SwiGLUForward(out, gate, up *tensor.Tensor) {
	mustShape("SwiGLUForward", "gate", gate, out.Shape()...)
	mustShape("SwiGLUForward", "up", up, out.Shape()...)
	o, g, u := Data(out), Data(gate), Data(up)
	parallelFor(len(o), elementCost, func(lo, hi int) {
		vecSwiGLU(o[lo:hi], g[lo:hi], u[lo:hi])
	})
}

// SwiGLUBackward accumulates dgate += dout·up·silu'(gate) and dup += dout·silu(gate), where
// silu'(g) = σ(g)·(1 + g·(1 − σ(g))).
func (be *Backend) SwiGLUBackward(dgate, dup, dout, gate, up *tensor.Tensor) {
	shape := dout.Shape()
	for _, c := range []struct {
		name string
		t    *tensor.Tensor
	}{{"dgate", dgate}, {"dup", dup}, {"gate", gate}, {"up", up}} {
		mustShape("SwiGLUBackward", c.name, c.t, shape...)
	}
	dg, du, d, g, u := Data(dgate), Data(dup), Data(dout), Data(gate), Data(up)
	parallelFor(len(d), elementCost, func(lo, hi int) {
		vecSwiGLUBackward(dg[lo:hi], du[lo:hi], d[lo:hi], g[lo:hi], u[lo:hi])
	})
}

const (
	sqrt2OverPi = 0.7978845608028654 // √(2/π)
	geluCubic   = 0.044715
	invSqrt2    = 0.7071067811865476 // 1/√2
	invSqrt2Pi  = 0.3989422804014327 // 1/√(2π)
)

// gelu returns gelu(x) and its derivative: the tanh form 0.5·x·(1+tanh(√(2/π)·(x+0.044715x³))) when
// tanh is true, the exact form 0.5·x·(1+erf(x/√2)) otherwise.
func gelu(x float64, tanh bool) (y, dy float64) {
	if tanh {
		t := tanhViaExp(sqrt2OverPi * (x + geluCubic*x*x*x))
		y = 0.5 * x * (1 + t)
		dy = 0.5*(1+t) + 0.5*x*(1-t*t)*sqrt2OverPi*(1+3*geluCubic*x*x)
		return y, dy
	}
	cdf := 0.5 * (1 + math.Erf(x*invSqrt2))
	return x * cdf, cdf + x*invSqrt2Pi*fastExp(-0.5*x*x)
}

// GELUForward computes out = gelu(x); tanh selects GPT-2's tanh approximation over the exact form.
func (be *Backend) GELUForward(out, x *tensor.Tensor, tanh bool) {
	mustShape("GELUForward", "x", x, out.Shape()...)
	o, xs := Data(out), Data(x)
	parallelFor(len(o), elementCost, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y, _ := gelu(float64(xs[i]), tanh)
			o[i] = float32(y)
		}
	})
}

// GELUBackward accumulates dx += dout·gelu'(x).
func (be *Backend) GELUBackward(dx, dout, x *tensor.Tensor, tanh bool) {
	mustShape("GELUBackward", "dout", dout, dx.Shape()...)
	mustShape("GELUBackward", "x", x, dx.Shape()...)
	d, g, xs := Data(dx), Data(dout), Data(x)
	parallelFor(len(d), elementCost, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			_, dy := gelu(float64(xs[i]), tanh)
			d[i] += float32(float64(g[i]) * dy)
		}
	})
}
