package nn

import (
	"fmt"

	"github.com/eva-lora/eva/tensor"
)

// Adapter adds a trainable low-rank (or other) update to a Linear layer's output.
type Adapter interface {
	// Forward adds the adapter's contribution for input x [N, In] to y [N, Out].
	Forward(ctx *Context, x, y *tensor.Tensor)
	// Backward accumulates the adapter's parameter gradients and, when dx is not nil, its
	// contribution to dx [N, In], from dy [N, Out] and the forward input x.
	Backward(ctx *Context, x, dy, dx *tensor.Tensor)
}

// Capture observes a Linear layer's input rows during a forward pass (EVA's calibration hook).
type Capture interface {
	// Observe receives the layer's name and its input x [N, In] for the current batch, together with
	// the pass's context (its Rows and Labels say which rows count). x is only valid during the call.
	Observe(ctx *Context, name string, x *tensor.Tensor)
}

// GradCapture is implemented by a Capture that also wants each Linear layer's output gradient dy
// [N, Out] during the backward pass (LoRA-DA's Fisher statistics). dy is only valid during the call.
type GradCapture interface {
	ObserveGrad(ctx *Context, name string, dy *tensor.Tensor)
}

// OutputScaler is implemented by adapters that rescale the layer's output per feature (DoRA's
// magnitude over norm): y = c ⊙ (W·x + update) + bias. Linear's Backward then gives the base
// weight's gradient and dx the rescaled gradient c ⊙ dy (the bias still gets dy).
type OutputScaler interface {
	// ScaleOutputGrad returns c ⊙ dy [N, Out]; the result is only valid until the next call.
	ScaleOutputGrad(ctx *Context, dy *tensor.Tensor) *tensor.Tensor
}

// Linear computes y = x·Wᵀ + b (+ the adapter's contribution). W is stored as [Out, In], PyTorch's
// nn.Linear layout, whatever the checkpoint's layout was (GPT-2's Conv1D weights are transposed at
// load time and FanInFanOut records it).
type Linear struct {
	// Name is the Hugging Face module path, e.g. "model.layers.3.self_attn.q_proj".
	Name string
	// Block is the index of the transformer block holding the layer, or -1 outside the blocks
	// (the output head).
	Block int
	// In and Out are the input and output feature counts.
	In, Out int
	// W is the weight [Out, In]; B is the bias [Out] or nil.
	W, B *tensor.Tensor
	// GradW and GradB receive weight gradients when not nil (see RequestGrads).
	GradW, GradB *tensor.Tensor
	// FanInFanOut is true when the checkpoint stores this weight as [In, Out] (GPT-2's Conv1D).
	FanInFanOut bool
	// Adapter, when not nil, adds its update to the output (LoRA and variants).
	Adapter Adapter
	// Capture, when not nil, sees every forward input; nothing is copied when it is nil.
	Capture Capture
}

// NewLinear checks shapes and builds a Linear layer. b may be nil.
func NewLinear(name string, w, b *tensor.Tensor) (*Linear, error) {
	if w.Rank() != 2 {
		return nil, fmt.Errorf("%s: weight has shape %v, want 2 dimensions", name, w.Shape())
	}
	l := &Linear{Name: name, Block: -1, Out: w.Dim(0), In: w.Dim(1), W: w, B: b}
	if b != nil && (b.Rank() != 1 || b.Dim(0) != l.Out) {
		return nil, fmt.Errorf("%s: bias has shape %v, want [%d]", name, b.Shape(), l.Out)
	}
	return l, nil
}

// RequestGrads allocates zeroed weight (and bias) gradient tensors.
func (l *Linear) RequestGrads(be tensor.Backend) {
	l.GradW = be.Zeros(l.Out, l.In)
	if l.B != nil {
		l.GradB = be.Zeros(l.Out)
	}
}

// Forward writes y [N, Out] from x [N, In].
func (l *Linear) Forward(ctx *Context, x, y *tensor.Tensor) {
	if l.Capture != nil {
		l.Capture.Observe(ctx, l.Name, x)
	}
	be := ctx.Backend
	be.Gemm(false, true, 1, x, l.W, 0, y)
	if l.B != nil {
		be.AddRowVector(y, l.B)
	}
	if l.Adapter != nil {
		l.Adapter.Forward(ctx, x, y)
	}
}

// Backward accumulates dx [N, In] (skipped when nil), the weight gradients that were requested and
// the adapter's gradients, from dy [N, Out] and the forward input x.
func (l *Linear) Backward(ctx *Context, x, dy, dx *tensor.Tensor) {
	be := ctx.Backend
	if g, ok := l.Capture.(GradCapture); ok {
		g.ObserveGrad(ctx, l.Name, dy)
	}
	if l.GradB != nil {
		be.SumRows(l.GradB, dy)
	}
	dyBase := dy
	if s, ok := l.Adapter.(OutputScaler); ok {
		dyBase = s.ScaleOutputGrad(ctx, dy)
	}
	if dx != nil {
		be.Gemm(false, false, 1, dyBase, l.W, 1, dx)
	}
	if l.GradW != nil {
		be.Gemm(true, false, 1, dyBase, x, 1, l.GradW)
	}
	if l.Adapter != nil {
		l.Adapter.Backward(ctx, x, dy, dx)
	}
}
