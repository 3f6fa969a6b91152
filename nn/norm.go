package nn

import "github.com/eva-lora/eva/tensor"

// RMSNorm is root-mean-square normalisation with a learned scale (Llama's LlamaRMSNorm).
type RMSNorm struct {
	// Name is the Hugging Face module path.
	Name string
	// W is the scale [D]; GradW receives its gradient when not nil.
	W, GradW *tensor.Tensor
	// Eps is added to the mean square.
	Eps float32
}

// Forward writes out [N, D] and the per-row reciprocal RMS rstd [N], which Backward needs.
func (n *RMSNorm) Forward(ctx *Context, x, out, rstd *tensor.Tensor) {
	ctx.Backend.RMSNormForward(out, rstd, x, n.W, n.Eps)
}

// Backward accumulates dx and the requested scale gradient.
func (n *RMSNorm) Backward(ctx *Context, x, rstd, dout, dx *tensor.Tensor) {
	ctx.Backend.RMSNormBackward(dx, n.GradW, dout, x, n.W, rstd)
}

// RequestGrads allocates a zeroed scale gradient.
func (n *RMSNorm) RequestGrads(be tensor.Backend) { n.GradW = be.Zeros(n.W.Len()) }

// LayerNorm is layer normalisation with a learned scale and bias (GPT-2's ln_1, ln_2, ln_f).
type LayerNorm struct {
	// Name is the Hugging Face module path.
	Name string
	// W and B are the scale and bias [D]; GradW and GradB receive gradients when not nil.
	W, B, GradW, GradB *tensor.Tensor
	// Eps is added to the variance.
	Eps float32
}

// Forward writes out [N, D] and the per-row mean and reciprocal standard deviation [N].
func (n *LayerNorm) Forward(ctx *Context, x, out, mean, rstd *tensor.Tensor) {
	ctx.Backend.LayerNormForward(out, mean, rstd, x, n.W, n.B, n.Eps)
}

// Backward accumulates dx and the requested parameter gradients.
func (n *LayerNorm) Backward(ctx *Context, x, mean, rstd, dout, dx *tensor.Tensor) {
	ctx.Backend.LayerNormBackward(dx, n.GradW, n.GradB, dout, x, n.W, mean, rstd)
}

// RequestGrads allocates zeroed parameter gradients.
func (n *LayerNorm) RequestGrads(be tensor.Backend) {
	n.GradW = be.Zeros(n.W.Len())
	if n.B != nil {
		n.GradB = be.Zeros(n.B.Len())
	}
}

// Embedding maps token ids to rows of a table [V, D].
type Embedding struct {
	// Name is the Hugging Face module path.
	Name string
	// Table is [V, D]; Grad receives its gradient when not nil.
	Table, Grad *tensor.Tensor
}

// Forward gathers out [N, D] = Table[ids]. Ids must already be validated against the vocabulary.
func (e *Embedding) Forward(ctx *Context, ids []int32, out *tensor.Tensor) {
	ctx.Backend.EmbeddingForward(out, e.Table, ids)
}

// Backward scatter-adds dout into the table gradient when it was requested.
func (e *Embedding) Backward(ctx *Context, ids []int32, dout *tensor.Tensor) {
	if e.Grad != nil {
		ctx.Backend.EmbeddingBackward(e.Grad, dout, ids)
	}
}

// RequestGrads allocates a zeroed table gradient.
func (e *Embedding) RequestGrads(be tensor.Backend) { e.Grad = be.Zeros(e.Table.Shape()...) }
