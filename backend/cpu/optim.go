package cpu

import (
	"fmt"
	"math"

	"github.com/eva-lora/eva/tensor"
)

// Optimizer kernels: the AdamW update and the sum of squares behind global-norm gradient clipping.

// AdamW applies step t (≥ 1) of torch.optim.AdamW to p in place, given its gradient g and the moment
// buffers m and v (updated in place). All four tensors have the same number of elements.
//
// The element update follows PyTorch's single-tensor CPU path (torch/optim/adamw.py,
// _single_tensor_adamw) operation by operation in float32, with every scalar coefficient computed in
// float64 first and rounded to float32 as PyTorch rounds a Python float for a float32 kernel:
//
//	p ← p·(1 − lr·wd)                          decoupled weight decay, before the moments
//	m ← lerp(m, g, 1 − β1)                     m + (1−β1)·(g − m), one fused multiply-add
//	v ← v·β2 + ((1 − β2)·g)·g                  mul_ then addcmul_
//	p ← p + (−lr/(1 − β1ᵗ))·m / (√v/√(1 − β2ᵗ) + eps)   addcdiv_
//
// For 1−β1 ≥ 0.5 the lerp takes PyTorch's other branch, g − (g − m)·β1, also fused.
func (be *Backend) AdamW(p, g, m, v *tensor.Tensor, lr, beta1, beta2, eps, weightDecay float64, step int) {
	n := p.Len()
	mustLen("AdamW", "g", g, n)
	mustLen("AdamW", "m", m, n)
	mustLen("AdamW", "v", v, n)
	if step < 1 {
		panic(fmt.Sprintf("cpu: AdamW: step %d, want ≥ 1", step))
	}
	c := newAdamWCoef(lr, beta1, beta2, eps, weightDecay, step)
	ps, gs, ms, vs := Data(p), Data(g), Data(m), Data(v)
	parallelFor(n, 16, func(lo, hi int) {
		c.apply(ps[lo:hi], gs[lo:hi], ms[lo:hi], vs[lo:hi])
	})
}

// adamwCoef holds one AdamW step's scalars, rounded to float32 as PyTorch passes them to its kernels.
type adamwCoef struct {
	decay      float32 // 1 − lr·wd
	lerpW      float32 // lerp weight 1 − β1 (or, when lerpSmall is false, the coefficient (1−β1) − 1)
	lerpSmall  bool    // |1 − β1| < 0.5: lerp from m; otherwise from g
	beta2      float32 // β2
	oneMinusB2 float32 // 1 − β2
	bc2Sqrt    float32 // √(1 − β2ᵗ)
	eps        float32
	negStep    float32 // −lr/(1 − β1ᵗ)
}

func newAdamWCoef(lr, beta1, beta2, eps, weightDecay float64, step int) adamwCoef {
	t := float64(step)
	w := float32(1 - beta1)
	c := adamwCoef{
		decay:      float32(1 - lr*weightDecay),
		lerpW:      w,
		lerpSmall:  abs32(w) < 0.5,
		beta2:      float32(beta2),
		oneMinusB2: float32(1 - beta2),
		bc2Sqrt:    float32(math.Sqrt(1 - math.Pow(beta2, t))),
		eps:        float32(eps),
		negStep:    float32(-(lr / (1 - math.Pow(beta1, t)))),
	}
	if !c.lerpSmall {
		c.lerpW = w - 1
	}
	return c
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// fma32 returns a·b + c rounded once from float64 (a·b of two float32 values is exact in float64),
// as the fused multiply-add of PyTorch's vectorised lerp rounds it (up to rare double-rounding ties).
func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// apply updates one range of elements. Explicit float32 conversions keep every operation rounded
// to float32, as PyTorch computes it (the Go spec forbids fusing across a conversion).
func (c adamwCoef) apply(p, g, m, v []float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		pi := p[i]
		if c.decay != 1 {
			pi = float32(pi * c.decay)
		}
		gi, mi := g[i], m[i]
		if c.lerpSmall {
			mi = fma32(c.lerpW, float32(gi-mi), mi)
		} else {
			mi = fma32(c.lerpW, float32(gi-mi), gi)
		}
		vi := float32(v[i] * c.beta2)
		vi = vi + float32(float32(c.oneMinusB2*gi)*gi)
		denom := float32(float32(sqrt32(vi)/c.bc2Sqrt) + c.eps)
		pi = pi + float32(float32(c.negStep*mi)/denom)
		p[i], m[i], v[i] = pi, mi, vi
	}
}

// sqrt32 is the correctly rounded float32 square root (the float64 root of a float32, rounded to
// float32, is exact: 53 ≥ 2·24 + 2 bits).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// sumSquaresBlock is the number of elements each partial sum of SumSquares covers. Partial sums have
// a fixed layout, so the result does not depend on the number of goroutines.
const sumSquaresBlock = 1 << 14

// SumSquares returns Σ x², accumulated in float64: sequentially within fixed blocks of elements,
// then over the blocks in order, so the result is the same on any number of goroutines.
func (be *Backend) SumSquares(x *tensor.Tensor) float64 {
	xs := Data(x)
	blocks := (len(xs) + sumSquaresBlock - 1) / sumSquaresBlock
	partial := make([]float64, blocks)
	parallelFor(blocks, sumSquaresBlock, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			partial[b] = sumSquares(xs[b*sumSquaresBlock : min((b+1)*sumSquaresBlock, len(xs))])
		}
	})
	total := 0.0
	for _, s := range partial {
		total += s
	}
	return total
}

// sumSquares adds x² in float64 over four interleaved accumulators (independent dependency chains).
func sumSquares(x []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}
