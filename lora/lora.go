// Package lora holds low-rank adapters for nn.Linear layers: y = W·x + s·B·(A·x), with A [r, In],
// B [Out, r] and the scale s = alpha/r (or alpha/√r with rsLoRA), as Hugging Face PEFT defines them.
package lora

import (
	"fmt"
	"math"

	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Adapter is a LoRA adapter on one Linear layer. It implements nn.Adapter.
type Adapter struct {
	// Rank is r; Alpha the layer's lora_alpha.
	Rank  int
	Alpha float64
	// RSLoRA selects the scale alpha/√r instead of alpha/r.
	RSLoRA bool
	// A is [Rank, In] and B is [Out, Rank]; GradA and GradB receive gradients when not nil.
	A, B, GradA, GradB *tensor.Tensor
	// ax holds A·x [N, Rank] from the last forward pass, which Backward reads; dyB is Backward's
	// scratch dy·B [N, Rank].
	ax, dyB *tensor.Tensor
}

// Scale is the factor applied to B·A: alpha/r, or alpha/√r with rsLoRA.
func (a *Adapter) Scale() float32 {
	if a.RSLoRA {
		return float32(a.Alpha / math.Sqrt(float64(a.Rank)))
	}
	return float32(a.Alpha / float64(a.Rank))
}

// New builds an adapter from A [r, In] and B [Out, r] for layer l and checks the shapes.
func New(l *nn.Linear, a, b *tensor.Tensor, alpha float64, rslora bool) (*Adapter, error) {
	if a.Rank() != 2 || b.Rank() != 2 || a.Dim(0) < 1 || a.Dim(1) != l.In || b.Dim(0) != l.Out || b.Dim(1) != a.Dim(0) {
		return nil, fmt.Errorf("%s: LoRA A %v and B %v do not fit a %d→%d layer", l.Name, a.Shape(), b.Shape(), l.In, l.Out)
	}
	return &Adapter{Rank: a.Dim(0), Alpha: alpha, RSLoRA: rslora, A: a, B: b}, nil
}

// RequestGrads allocates zeroed gradients for A and B.
func (a *Adapter) RequestGrads(be tensor.Backend) {
	a.GradA = be.Zeros(a.A.Shape()...)
	a.GradB = be.Zeros(a.B.Shape()...)
}

// scratch returns a [n, Rank] buffer, reallocated only when n changes.
func scratch(be tensor.Backend, t **tensor.Tensor, n, rank int) *tensor.Tensor {
	if *t == nil || (*t).Dim(0) != n {
		*t = be.Zeros(n, rank)
	}
	return *t
}

// Forward adds s·(x·Aᵀ)·Bᵀ to y and keeps x·Aᵀ for Backward.
func (a *Adapter) Forward(ctx *nn.Context, x, y *tensor.Tensor) {
	be := ctx.Backend
	ax := scratch(be, &a.ax, x.Dim(0), a.Rank)
	be.Gemm(false, true, 1, x, a.A, 0, ax)
	be.Gemm(false, true, a.Scale(), ax, a.B, 1, y)
}

// Backward accumulates dA, dB and dx from dy. It must follow this adapter's Forward on the same x.
//
//	dB += s·dyᵀ·(x·Aᵀ)   dA += s·(dy·B)ᵀ·x   dx += s·(dy·B)·A
func (a *Adapter) Backward(ctx *nn.Context, x, dy, dx *tensor.Tensor) {
	be := ctx.Backend
	s := a.Scale()
	if a.GradB != nil {
		be.Gemm(true, false, s, dy, a.ax, 1, a.GradB)
	}
	dyB := scratch(be, &a.dyB, x.Dim(0), a.Rank)
	be.Gemm(false, false, 1, dy, a.B, 0, dyB)
	if a.GradA != nil {
		be.Gemm(true, false, s, dyB, x, 1, a.GradA)
	}
	if dx != nil {
		be.Gemm(false, false, s, dyB, a.A, 1, dx)
	}
}
