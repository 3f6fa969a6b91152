package llama

import (
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// layerActs holds one block's forward activations, which its backward pass reads.
type layerActs struct {
	h1, rstd1   *tensor.Tensor // attention norm output [N, D] and its rstd [N]
	q, k, v     *tensor.Tensor // projections after RoPE: [N, H·Dh], [N, KV·Dh]
	probs       *tensor.Tensor // attention weights [B, H, S, S]
	attn        *tensor.Tensor // attention output [N, H·Dh]
	mid         *tensor.Tensor // residual stream after attention [N, D]
	h2, rstd2   *tensor.Tensor // MLP norm output and rstd
	gate, up, a *tensor.Tensor // MLP pre-activations and silu(gate)·up [N, F]
}

// activations are the buffers of one forward pass, reused while the batch shape stays the same.
type activations struct {
	batch     *data.Batch
	B, S      int
	cos, sin  *tensor.Tensor
	stream    []*tensor.Tensor // residual stream entering each layer, and leaving the last: L+1 × [N, D]
	layers    []layerActs
	hf, rstdf *tensor.Tensor // final norm output and rstd
	logits    *tensor.Tensor
	head      model.RowHead  // lm_head on every row or on the labelled ones
	tmp       *tensor.Tensor // [N, D] scratch for branch outputs
	grads     *grads         // backward scratch, allocated by the first Backward
	dres      *tensor.Tensor // gradient of the residual stream [N, D]
}

// buffers returns activation buffers for a B×S batch, reusing the previous ones when they fit.
func (m *Model) buffers(B, S int) *activations {
	if a := m.acts; a != nil && a.B == B && a.S == S {
		return a
	}
	be, c := m.be, m.cfg
	N, D, F := B*S, c.HiddenSize, c.IntermediateSize
	qDim, kvDim := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	a := &activations{B: B, S: S}
	a.cos, a.sin = model.RopeTables(be, S, m.invFreq)
	for i := 0; i <= c.NumLayers; i++ {
		a.stream = append(a.stream, be.Zeros(N, D))
	}
	a.layers = make([]layerActs, c.NumLayers)
	for i := range a.layers {
		a.layers[i] = layerActs{
			h1: be.Zeros(N, D), rstd1: be.Zeros(N),
			q: be.Zeros(N, qDim), k: be.Zeros(N, kvDim), v: be.Zeros(N, kvDim),
			probs: be.Zeros(B, c.NumHeads, S, S), attn: be.Zeros(N, qDim),
			mid: be.Zeros(N, D), h2: be.Zeros(N, D), rstd2: be.Zeros(N),
			gate: be.Zeros(N, F), up: be.Zeros(N, F), a: be.Zeros(N, F),
		}
	}
	a.hf, a.rstdf = be.Zeros(N, D), be.Zeros(N)
	a.logits = be.Zeros(N, c.VocabSize)
	a.tmp = be.Zeros(N, D)
	m.acts = a
	return a
}

// Forward runs a batch and returns logits [B·S, V].
func (m *Model) Forward(ctx *nn.Context, b *data.Batch) (*tensor.Tensor, error) {
	c := m.cfg
	if err := b.Validate(c.VocabSize, 0); err != nil {
		return nil, err
	}
	a := m.buffers(b.B, b.S)
	a.batch = b
	m.Embed.Forward(ctx, b.IDs, a.stream[0])
	for i, l := range m.Layers[:model.BlocksToRun(ctx, len(m.Layers))] {
		m.layerForward(ctx, l, &a.layers[i], a, a.stream[i], a.stream[i+1])
	}
	if ctx.Blocks > 0 {
		return nil, nil
	}
	m.Norm.Forward(ctx, a.stream[len(m.Layers)], a.hf, a.rstdf)
	return a.head.Forward(ctx, m.Head, a.hf, a.logits), nil
}

// layerForward computes out = block(x), keeping its activations in la.
func (m *Model) layerForward(ctx *nn.Context, l *Layer, la *layerActs, a *activations, x, out *tensor.Tensor) {
	be, c := ctx.Backend, m.cfg
	B, S := a.B, a.S
	l.AttnNorm.Forward(ctx, x, la.h1, la.rstd1)
	l.Q.Forward(ctx, la.h1, la.q)
	l.K.Forward(ctx, la.h1, la.k)
	l.V.Forward(ctx, la.h1, la.v)
	q4 := la.q.Reshape(B, S, c.NumHeads, c.HeadDim)
	k4 := la.k.Reshape(B, S, c.NumKVHeads, c.HeadDim)
	be.RoPE(q4, a.cos, a.sin, false)
	be.RoPE(k4, a.cos, a.sin, false)
	be.AttentionForward(la.attn.Reshape(B, S, c.NumHeads, c.HeadDim), la.probs, q4, k4,
		la.v.Reshape(B, S, c.NumKVHeads, c.HeadDim), a.batch.Lengths, l.Window, m.scale())
	l.O.Forward(ctx, la.attn, a.tmp)
	be.Add(la.mid, x, a.tmp)
	l.MLPNorm.Forward(ctx, la.mid, la.h2, la.rstd2)
	l.Gate.Forward(ctx, la.h2, la.gate)
	l.Up.Forward(ctx, la.h2, la.up)
	be.SwiGLUForward(la.a, la.gate, la.up)
	l.Down.Forward(ctx, la.a, a.tmp)
	be.Add(out, la.mid, a.tmp)
}

// Backward accumulates gradients from dlogits [B·S, V] of the last Forward.
func (m *Model) Backward(ctx *nn.Context, dlogits *tensor.Tensor) {
	a := m.acts
	be, c := ctx.Backend, m.cfg
	N, D, F := a.B*a.S, c.HiddenSize, c.IntermediateSize
	qDim, kvDim := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	if a.grads == nil {
		a.dres = be.Zeros(N, D)
		a.grads = &grads{dh: be.Zeros(N, D), dAct: be.Zeros(N, F), dGate: be.Zeros(N, F), dUp: be.Zeros(N, F),
			dAttn: be.Zeros(N, qDim), dq: be.Zeros(N, qDim), dk: be.Zeros(N, kvDim), dv: be.Zeros(N, kvDim)}
	}
	g, dres := a.grads, a.dres // dres: gradient of the residual stream, flowing down
	be.Fill(dres, 0)
	be.Fill(g.dh, 0)
	a.head.Backward(ctx, m.Head, a.hf, dlogits, g.dh)
	m.Norm.Backward(ctx, a.stream[len(m.Layers)], a.rstdf, g.dh, dres)
	for i := len(m.Layers) - 1; i >= 0; i-- {
		// Below the first block only the embedding gradient needs dres: without it (LoRA training)
		// the first block's input gradient is not computed.
		needInput := i > 0 || m.Embed.Grad != nil
		m.layerBackward(ctx, m.Layers[i], &a.layers[i], a, a.stream[i], dres, g, needInput)
	}
	m.Embed.Backward(ctx, a.batch.IDs, dres)
}

// grads are the scratch gradient buffers shared by every layer's backward pass.
type grads struct {
	dh, dAct, dGate, dUp, dAttn, dq, dk, dv *tensor.Tensor
}

// layerBackward turns dres, the gradient w.r.t. the block's output, into the gradient w.r.t. its
// input x (in place), accumulating parameter gradients on the way. Without needInput (and without
// a gradient for the attention norm's weight) the attention branch stops at the q/k/v projections'
// parameter and adapter gradients, and dres is left partial.
func (m *Model) layerBackward(ctx *nn.Context, l *Layer, la *layerActs, a *activations, x, dres *tensor.Tensor, g *grads, needInput bool) {
	be, c := ctx.Backend, m.cfg
	B, S := a.B, a.S
	for _, t := range []*tensor.Tensor{g.dh, g.dAct, g.dGate, g.dUp, g.dAttn, g.dq, g.dk, g.dv} {
		be.Fill(t, 0)
	}
	// MLP branch: out = mid + Down(silu(Gate(h2))·Up(h2)), h2 = norm(mid).
	l.Down.Backward(ctx, la.a, dres, g.dAct)
	be.SwiGLUBackward(g.dGate, g.dUp, g.dAct, la.gate, la.up)
	l.Gate.Backward(ctx, la.h2, g.dGate, g.dh)
	l.Up.Backward(ctx, la.h2, g.dUp, g.dh)
	l.MLPNorm.Backward(ctx, la.mid, la.rstd2, g.dh, dres)
	// Attention branch: mid = x + O(attn(RoPE(Q h1), RoPE(K h1), V h1)), h1 = norm(x).
	be.Fill(g.dh, 0)
	l.O.Backward(ctx, la.attn, dres, g.dAttn)
	q4 := la.q.Reshape(B, S, c.NumHeads, c.HeadDim)
	k4 := la.k.Reshape(B, S, c.NumKVHeads, c.HeadDim)
	dq4 := g.dq.Reshape(B, S, c.NumHeads, c.HeadDim)
	dk4 := g.dk.Reshape(B, S, c.NumKVHeads, c.HeadDim)
	be.AttentionBackward(dq4, dk4, g.dv.Reshape(B, S, c.NumKVHeads, c.HeadDim),
		g.dAttn.Reshape(B, S, c.NumHeads, c.HeadDim), q4, k4,
		la.v.Reshape(B, S, c.NumKVHeads, c.HeadDim), la.probs, a.batch.Lengths, l.Window, m.scale())
	be.RoPE(dq4, a.cos, a.sin, true)
	be.RoPE(dk4, a.cos, a.sin, true)
	dh := g.dh
	if !needInput && l.AttnNorm.GradW == nil {
		dh = nil
	}
	l.Q.Backward(ctx, la.h1, g.dq, dh)
	l.K.Backward(ctx, la.h1, g.dk, dh)
	l.V.Backward(ctx, la.h1, g.dv, dh)
	if dh != nil {
		l.AttnNorm.Backward(ctx, x, la.rstd1, g.dh, dres)
	}
}
