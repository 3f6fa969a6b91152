package gpt2

import (
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// layerActs holds one block's forward activations.
type layerActs struct {
	h1, mean1, rstd1 *tensor.Tensor // ln_1 output [N, D] and statistics [N]
	qkv              *tensor.Tensor // c_attn output [N, 3D]
	q, k, v          *tensor.Tensor // split heads [N, D]
	probs            *tensor.Tensor // [B, H, S, S]
	attn             *tensor.Tensor // attention output [N, D]
	mid              *tensor.Tensor // residual after attention [N, D]
	h2, mean2, rstd2 *tensor.Tensor // ln_2 output and statistics
	fc, act          *tensor.Tensor // c_fc output and gelu of it [N, F]
}

// activations are the buffers of one forward pass, reused while the batch shape stays the same.
type activations struct {
	batch            *data.Batch
	B, S             int
	pos              []int32 // position id of every row
	stream           []*tensor.Tensor
	layers           []layerActs
	hf, meanf, rstdf *tensor.Tensor
	logits, tmp      *tensor.Tensor
	head             model.RowHead  // lm_head on every row or on the labelled ones
	grads            *grads         // backward scratch, allocated by the first Backward
	dres             *tensor.Tensor // gradient of the residual stream [N, D]
}

func (m *Model) buffers(B, S int) *activations {
	if a := m.acts; a != nil && a.B == B && a.S == S {
		return a
	}
	be, c := m.be, m.cfg
	N, D, F := B*S, c.HiddenSize, c.IntermediateSize
	a := &activations{B: B, S: S, pos: make([]int32, N)}
	for i := range a.pos {
		a.pos[i] = int32(i % S)
	}
	for i := 0; i <= c.NumLayers; i++ {
		a.stream = append(a.stream, be.Zeros(N, D))
	}
	a.layers = make([]layerActs, c.NumLayers)
	for i := range a.layers {
		a.layers[i] = layerActs{
			h1: be.Zeros(N, D), mean1: be.Zeros(N), rstd1: be.Zeros(N), qkv: be.Zeros(N, 3*D),
			q: be.Zeros(N, D), k: be.Zeros(N, D), v: be.Zeros(N, D),
			probs: be.Zeros(B, c.NumHeads, S, S), attn: be.Zeros(N, D), mid: be.Zeros(N, D),
			h2: be.Zeros(N, D), mean2: be.Zeros(N), rstd2: be.Zeros(N),
			fc: be.Zeros(N, F), act: be.Zeros(N, F),
		}
	}
	a.hf, a.meanf, a.rstdf = be.Zeros(N, D), be.Zeros(N), be.Zeros(N)
	a.logits, a.tmp = be.Zeros(N, c.VocabSize), be.Zeros(N, D)
	m.acts = a
	return a
}

// Forward runs a batch and returns logits [B·S, V].
func (m *Model) Forward(ctx *nn.Context, b *data.Batch) (*tensor.Tensor, error) {
	if err := b.Validate(m.cfg.VocabSize, m.cfg.MaxPositions); err != nil {
		return nil, err
	}
	a := m.buffers(b.B, b.S)
	a.batch = b
	be := ctx.Backend
	m.WTE.Forward(ctx, b.IDs, a.stream[0])
	m.WPE.Forward(ctx, a.pos, a.tmp)
	be.Add(a.stream[0], a.stream[0], a.tmp)
	for i, l := range m.Layers[:model.BlocksToRun(ctx, len(m.Layers))] {
		m.layerForward(ctx, l, &a.layers[i], a, a.stream[i], a.stream[i+1])
	}
	if ctx.Blocks > 0 {
		return nil, nil
	}
	m.LNF.Forward(ctx, a.stream[len(m.Layers)], a.hf, a.meanf, a.rstdf)
	return a.head.Forward(ctx, m.Head, a.hf, a.logits), nil
}

func (m *Model) layerForward(ctx *nn.Context, l *Layer, la *layerActs, a *activations, x, out *tensor.Tensor) {
	be, c := ctx.Backend, m.cfg
	D, H, Dh := c.HiddenSize, c.NumHeads, m.headDim()
	l.LN1.Forward(ctx, x, la.h1, la.mean1, la.rstd1)
	l.Attn.Forward(ctx, la.h1, la.qkv)
	be.SliceCols(la.q, la.qkv, 0)
	be.SliceCols(la.k, la.qkv, D)
	be.SliceCols(la.v, la.qkv, 2*D)
	be.AttentionForward(la.attn.Reshape(a.B, a.S, H, Dh), la.probs, la.q.Reshape(a.B, a.S, H, Dh),
		la.k.Reshape(a.B, a.S, H, Dh), la.v.Reshape(a.B, a.S, H, Dh), a.batch.Lengths, 0, m.scale())
	l.AttnProj.Forward(ctx, la.attn, a.tmp)
	be.Add(la.mid, x, a.tmp)
	l.LN2.Forward(ctx, la.mid, la.h2, la.mean2, la.rstd2)
	l.FC.Forward(ctx, la.h2, la.fc)
	be.GELUForward(la.act, la.fc, m.gelu)
	l.Proj.Forward(ctx, la.act, a.tmp)
	be.Add(out, la.mid, a.tmp)
}

// grads are the scratch gradient buffers shared by every layer's backward pass.
type grads struct {
	dh, dAct, dFC, dqkv, dAttn, dq, dk, dv *tensor.Tensor
}

// Backward accumulates gradients from dlogits [B·S, V] of the last Forward.
func (m *Model) Backward(ctx *nn.Context, dlogits *tensor.Tensor) {
	a := m.acts
	be, c := ctx.Backend, m.cfg
	N, D, F := a.B*a.S, c.HiddenSize, c.IntermediateSize
	if a.grads == nil {
		a.dres = be.Zeros(N, D)
		a.grads = &grads{dh: be.Zeros(N, D), dAct: be.Zeros(N, F), dFC: be.Zeros(N, F), dqkv: be.Zeros(N, 3*D),
			dAttn: be.Zeros(N, D), dq: be.Zeros(N, D), dk: be.Zeros(N, D), dv: be.Zeros(N, D)}
	}
	g, dres := a.grads, a.dres
	be.Fill(dres, 0)
	be.Fill(g.dh, 0)
	a.head.Backward(ctx, m.Head, a.hf, dlogits, g.dh)
	m.LNF.Backward(ctx, a.stream[len(m.Layers)], a.meanf, a.rstdf, g.dh, dres)
	for i := len(m.Layers) - 1; i >= 0; i-- {
		m.layerBackward(ctx, m.Layers[i], &a.layers[i], a, a.stream[i], dres, g)
	}
	m.WTE.Backward(ctx, a.batch.IDs, dres)
	m.WPE.Backward(ctx, a.pos, dres)
}

func (m *Model) layerBackward(ctx *nn.Context, l *Layer, la *layerActs, a *activations, x, dres *tensor.Tensor, g *grads) {
	be, c := ctx.Backend, m.cfg
	D, H, Dh := c.HiddenSize, c.NumHeads, m.headDim()
	for _, t := range []*tensor.Tensor{g.dh, g.dAct, g.dFC, g.dqkv, g.dAttn, g.dq, g.dk, g.dv} {
		be.Fill(t, 0)
	}
	l.Proj.Backward(ctx, la.act, dres, g.dAct)
	be.GELUBackward(g.dFC, g.dAct, la.fc, m.gelu)
	l.FC.Backward(ctx, la.h2, g.dFC, g.dh)
	l.LN2.Backward(ctx, la.mid, la.mean2, la.rstd2, g.dh, dres)
	be.Fill(g.dh, 0)
	l.AttnProj.Backward(ctx, la.attn, dres, g.dAttn)
	shape := func(t *tensor.Tensor) *tensor.Tensor { return t.Reshape(a.B, a.S, H, Dh) }
	be.AttentionBackward(shape(g.dq), shape(g.dk), shape(g.dv), shape(g.dAttn), shape(la.q), shape(la.k),
		shape(la.v), la.probs, a.batch.Lengths, 0, m.scale())
	be.AccumulateCols(g.dqkv, g.dq, 0)
	be.AccumulateCols(g.dqkv, g.dk, D)
	be.AccumulateCols(g.dqkv, g.dv, 2*D)
	l.Attn.Backward(ctx, la.h1, g.dqkv, g.dh)
	l.LN1.Backward(ctx, x, la.mean1, la.rstd1, g.dh, dres)
}
