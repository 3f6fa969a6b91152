// Package lora holds low-rank adapters for nn.Linear layers: y = W·x + s·B·(A·x), with A [r, In],
// B [Out, r] and the scale s = alpha/r (or alpha/√r with rsLoRA), as Hugging Face PEFT defines them,
// optionally with dropout on the adapter's input and DoRA's weight decomposition.
package lora

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Adapter is a LoRA adapter on one Linear layer. It implements nn.Adapter, and nn.OutputScaler when
// DoRA is on.
//
// With DoRA (Liu et al., 2024) the layer computes y = c ⊙ (W·x + s·B·A·x) + bias with
// c = m / ‖W + s·B·A‖ per output feature (the norm of each row of the [Out, In] weight) and a
// trainable magnitude m. As in PEFT, the norm is treated as a constant in the backward pass (the
// paper's section 4.3), so gradients flow through m, A and B but not through the norm.
type Adapter struct {
	// Rank is r; Alpha the layer's lora_alpha.
	Rank  int
	Alpha float64
	// RSLoRA selects the scale alpha/√r instead of alpha/r.
	RSLoRA bool
	// Dropout is the probability of zeroing an input element of the adapter path in training passes.
	Dropout float32
	// A is [Rank, In] and B is [Out, Rank]; GradA and GradB receive gradients when not nil.
	A, B, GradA, GradB *tensor.Tensor
	// Magnitude is DoRA's m [Out] (nil for plain LoRA); GradMagnitude receives its gradient.
	Magnitude, GradMagnitude *tensor.Tensor

	layer *nn.Linear
	salt  uint64 // mixes the layer name into dropout seeds
	// Scratch kept between Forward and Backward: ax = A·x̃ [N, r], dyB [N, r], xd the dropped-out
	// input [N, In] (dropout only); DoRA's z = W·x̃ + s·B·A·x̃ [N, Out], c [Out], the detached norm
	// [Out] and c ⊙ dy [N, Out].
	ax, dyB, xd             *tensor.Tensor
	z, c, invNorm, cdy, tmp *tensor.Tensor
	dropped                 bool           // the last Forward applied dropout
	merged                  bool           // the update is folded into the layer's weight
	mergedScale             *tensor.Tensor // DoRA's c at merge time, for Unmerge
}

// Scale is the factor applied to B·A: alpha/r, or alpha/√r with rsLoRA.
func (a *Adapter) Scale() float32 {
	if a.RSLoRA {
		return float32(a.Alpha / math.Sqrt(float64(a.Rank)))
	}
	return float32(a.Alpha / float64(a.Rank))
}

// New builds an adapter from A [r, In] and B [Out, r] for layer l and checks the shapes. It does not
// attach it (set l.Adapter).
func New(l *nn.Linear, a, b *tensor.Tensor, alpha float64, rslora bool) (*Adapter, error) {
	if a.Rank() != 2 || b.Rank() != 2 || a.Dim(0) < 1 || a.Dim(1) != l.In || b.Dim(0) != l.Out || b.Dim(1) != a.Dim(0) {
		return nil, fmt.Errorf("%s: LoRA A %v and B %v do not fit a %d→%d layer", l.Name, a.Shape(), b.Shape(), l.In, l.Out)
	}
	if math.IsNaN(alpha) || math.IsInf(alpha, 0) || alpha == 0 {
		return nil, fmt.Errorf("%s: lora_alpha %v must be finite and non-zero", l.Name, alpha)
	}
	h := fnv.New64a()
	h.Write([]byte(l.Name))
	return &Adapter{Rank: a.Dim(0), Alpha: alpha, RSLoRA: rslora, A: a, B: b, layer: l, salt: h.Sum64()}, nil
}

// Layer is the Linear layer the adapter was built for.
func (a *Adapter) Layer() *nn.Linear { return a.layer }

// SetMagnitude turns DoRA on with the magnitude m [Out] (as loaded from an adapter file).
func (a *Adapter) SetMagnitude(m *tensor.Tensor) error {
	if m.Rank() != 1 || m.Dim(0) != a.layer.Out {
		return fmt.Errorf("%s: DoRA magnitude %v does not fit %d output features", a.layer.Name, m.Shape(), a.layer.Out)
	}
	a.Magnitude = m
	return nil
}

// InitMagnitude turns DoRA on with m = ‖W + s·B·A‖ per output feature, so that the layer's output is
// unchanged (PEFT's initialisation).
func (a *Adapter) InitMagnitude(be tensor.Backend) {
	a.Magnitude = be.Zeros(a.layer.Out)
	a.weightNorm(be, a.Magnitude)
}

// RequestGrads allocates zeroed gradients for A, B and (with DoRA) the magnitude.
func (a *Adapter) RequestGrads(be tensor.Backend) {
	a.GradA = be.Zeros(a.A.Shape()...)
	a.GradB = be.Zeros(a.B.Shape()...)
	if a.Magnitude != nil {
		a.GradMagnitude = be.Zeros(a.layer.Out)
	}
}

// weightNorm writes ‖W + s·B·A‖ of each row into dst [Out], from the expansion
// ‖w‖² + 2s·⟨w, (BA)ᵢ⟩ + s²·‖(BA)ᵢ‖², which needs only [Out, r] and [r, r] products instead of an
// [Out, In] temporary. Rows are summed in float64 by the kernels; the square root on the host.
func (a *Adapter) weightNorm(be tensor.Backend, dst *tensor.Tensor) {
	l, r, s := a.layer, a.Rank, float64(a.Scale())
	w2 := be.Zeros(l.Out)
	be.RowDots(w2, l.W, l.W)
	wa := be.Zeros(l.Out, r) // W·Aᵀ
	be.Gemm(false, true, 1, l.W, a.A, 0, wa)
	cross := be.Zeros(l.Out)
	be.RowDots(cross, wa, a.B) // ⟨wᵢ, (BA)ᵢ⟩ = Σₖ Bᵢₖ (W·Aᵀ)ᵢₖ
	aat := be.Zeros(r, r)
	be.Gemm(false, true, 1, a.A, a.A, 0, aat)
	baa := be.Zeros(l.Out, r) // B·A·Aᵀ
	be.Gemm(false, false, 1, a.B, aat, 0, baa)
	ba2 := be.Zeros(l.Out)
	be.RowDots(ba2, baa, a.B)
	hw, hc, hb := be.ToHost(w2), be.ToHost(cross), be.ToHost(ba2)
	out := make([]float32, l.Out)
	for i := range out {
		out[i] = float32(math.Sqrt(max(float64(hw[i])+2*s*float64(hc[i])+s*s*float64(hb[i]), 0)))
	}
	be.Copy(dst, be.FromHost(out, l.Out))
}

// scratch returns a buffer of the given shape, reallocated only when its shape changes.
func scratch(be tensor.Backend, t **tensor.Tensor, shape ...int) *tensor.Tensor {
	if *t == nil || !slices.Equal((*t).Shape(), shape) {
		*t = be.Zeros(shape...)
	}
	return *t
}

// input returns the adapter path's input: x, or x after dropout in a training pass.
func (a *Adapter) input(ctx *nn.Context, x *tensor.Tensor) *tensor.Tensor {
	a.dropped = ctx.Training && a.Dropout > 0
	if !a.dropped {
		return x
	}
	xd := scratch(ctx.Backend, &a.xd, x.Shape()...)
	ctx.Backend.Dropout(xd, x, a.Dropout, ctx.Seed^a.salt)
	return xd
}

// Forward adds the adapter's contribution to y = W·x + bias and keeps what Backward needs. A merged
// adapter adds nothing.
func (a *Adapter) Forward(ctx *nn.Context, x, y *tensor.Tensor) {
	if a.merged {
		return
	}
	be := ctx.Backend
	n := x.Dim(0)
	xa := a.input(ctx, x)
	ax := scratch(be, &a.ax, n, a.Rank)
	be.Gemm(false, true, 1, xa, a.A, 0, ax)
	if a.Magnitude == nil {
		be.Gemm(false, true, a.Scale(), ax, a.B, 1, y)
		return
	}
	l := a.layer
	c := a.magnitudeScale(be)
	z := scratch(be, &a.z, n, l.Out)
	if !a.dropped {
		// y = c ⊙ (W·x + s·B·A·x) + bias, where y enters holding W·x + bias.
		be.Copy(z, y)
		if l.B != nil {
			be.AddRowVector(z, negated(be, l.B))
		}
		be.Gemm(false, true, a.Scale(), ax, a.B, 1, z)
		be.MulRowVector(y, z, c)
		if l.B != nil {
			be.AddRowVector(y, l.B)
		}
		return
	}
	// With dropout PEFT keeps the undropped base output and adds (c − 1) ⊙ W·x̃ + c ⊙ s·B·A·x̃.
	be.Gemm(false, true, 1, xa, l.W, 0, z)
	be.Axpy(-1, z, y)
	be.Gemm(false, true, a.Scale(), ax, a.B, 1, z)
	t := scratch(be, &a.tmp, n, l.Out)
	be.MulRowVector(t, z, c)
	be.Axpy(1, t, y)
}

// magnitudeScale computes DoRA's c = m / ‖W + s·B·A‖ into the adapter's buffer (and 1/‖·‖ for
// Backward) and returns it.
func (a *Adapter) magnitudeScale(be tensor.Backend) *tensor.Tensor {
	out := a.layer.Out
	a.weightNorm(be, scratch(be, &a.invNorm, out))
	hm, inv := be.ToHost(a.Magnitude), be.ToHost(a.invNorm)
	hc := make([]float32, out)
	for i := range hc {
		inv[i] = 1 / inv[i]
		hc[i] = hm[i] * inv[i]
	}
	be.Copy(a.invNorm, be.FromHost(inv, out))
	c := scratch(be, &a.c, out)
	be.Copy(c, be.FromHost(hc, out))
	return c
}

// negated returns −v for a vector v (DoRA subtracts the bias from the layer's output).
func negated(be tensor.Backend, v *tensor.Tensor) *tensor.Tensor {
	h := be.ToHost(v)
	for i := range h {
		h[i] = -h[i]
	}
	return be.FromHost(h, v.Shape()...)
}

// ScaleOutputGrad returns c ⊙ dy for the base layer's backward pass (DoRA without dropout) and
// keeps it for Backward; otherwise it returns dy.
func (a *Adapter) ScaleOutputGrad(ctx *nn.Context, dy *tensor.Tensor) *tensor.Tensor {
	if a.Magnitude == nil || a.dropped {
		return dy
	}
	cdy := scratch(ctx.Backend, &a.cdy, dy.Shape()...)
	ctx.Backend.MulRowVector(cdy, dy, a.c)
	return cdy
}

// Backward accumulates dA, dB (and dm) and, when dx is not nil, the adapter's part of dx from dy. It
// must follow this adapter's Forward on the same x and, with DoRA, the layer's call of
// ScaleOutputGrad (nn.Linear.Backward does both in order).
//
//	g = dy (LoRA) or c ⊙ dy (DoRA);  dB += s·gᵀ·(A·x̃)   dA += s·(g·B)ᵀ·x̃   dx += s·(g·B)·A
//	DoRA: dm += Σₙ dy ⊙ z / ‖W + s·B·A‖ with z = W·x̃ + s·B·A·x̃
func (a *Adapter) Backward(ctx *nn.Context, x, dy, dx *tensor.Tensor) {
	be := ctx.Backend
	s := a.Scale()
	n := x.Dim(0)
	g := dy
	if a.Magnitude != nil {
		if a.GradMagnitude != nil {
			dm := be.Zeros(1, a.layer.Out)
			be.ColDots(dm.Reshape(a.layer.Out), dy, a.z)
			be.MulRowVector(dm, dm, a.invNorm)
			be.Axpy(1, dm, a.GradMagnitude)
		}
		if a.dropped {
			g = scratch(be, &a.cdy, dy.Shape()...)
			be.MulRowVector(g, dy, a.c)
		} else {
			g = a.cdy
		}
	}
	xa := x
	if a.dropped {
		xa = a.xd
	}
	if a.GradB != nil {
		be.Gemm(true, false, s, g, a.ax, 1, a.GradB)
	}
	dyB := scratch(be, &a.dyB, n, a.Rank)
	be.Gemm(false, false, 1, g, a.B, 0, dyB)
	if a.GradA != nil {
		be.Gemm(true, false, s, dyB, xa, 1, a.GradA)
	}
	if dx == nil {
		return
	}
	if !a.dropped {
		be.Gemm(false, false, s, dyB, a.A, 1, dx)
		return
	}
	// x̃ = dropout(x): the adapter path's dx goes through the same mask. With DoRA the base term
	// (c − 1) ⊙ W·x̃ also depends on x̃.
	t := scratch(be, &a.xd, n, a.layer.In) // x̃ is no longer needed
	be.Gemm(false, false, s, dyB, a.A, 0, t)
	if a.Magnitude != nil {
		cm1 := be.Zeros(n, a.layer.Out)
		be.Copy(cm1, g)
		be.Axpy(-1, dy, cm1) // (c − 1) ⊙ dy
		be.Gemm(false, false, 1, cm1, a.layer.W, 1, t)
	}
	be.Dropout(t, t, a.Dropout, ctx.Seed^a.salt)
	be.Axpy(1, t, dx)
}

// Merged reports whether the adapter's update is folded into the layer's weight.
func (a *Adapter) Merged() bool { return a.merged }

// Merge folds the update into the layer's weight: W ← W + s·B·A, or with DoRA
// W ← c ⊙ (W + s·B·A) per output feature. The adapter then adds nothing until Unmerge.
func (a *Adapter) Merge(be tensor.Backend) {
	if a.merged {
		return
	}
	l := a.layer
	if a.Magnitude != nil {
		a.mergedScale = be.Zeros(l.Out)
		be.Copy(a.mergedScale, a.magnitudeScale(be))
	}
	be.Gemm(false, false, a.Scale(), a.B, a.A, 1, l.W)
	if a.Magnitude != nil {
		be.ScaleRows(l.W, l.W, a.mergedScale)
	}
	a.merged = true
}

// Unmerge restores the layer's weight that Merge changed (to rounding): W ← W/c − s·B·A.
func (a *Adapter) Unmerge(be tensor.Backend) {
	if !a.merged {
		return
	}
	l := a.layer
	if a.Magnitude != nil {
		inv := be.ToHost(a.mergedScale)
		for i := range inv {
			inv[i] = 1 / inv[i]
		}
		be.ScaleRows(l.W, l.W, be.FromHost(inv, l.Out))
		a.mergedScale = nil
	}
	be.Gemm(false, false, -a.Scale(), a.B, a.A, 1, l.W)
	a.merged = false
}
