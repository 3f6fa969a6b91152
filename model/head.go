package model

import (
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// LabelledRows returns the rows of targets that count (non-negative), for nn.Context.LogitRows: nil
// when every row counts or none does (the head then runs on every row). Prompt→completion data
// labels a few tokens per sequence, and its logits are then computed for those tokens only.
func LabelledRows(targets []int32) []int32 {
	rows := make([]int32, 0, len(targets))
	for i, t := range targets {
		if t >= 0 {
			rows = append(rows, int32(i))
		}
	}
	if len(rows) == 0 || len(rows) == len(targets) {
		return nil
	}
	return rows
}

// TargetsAt returns targets[rows[i]] for each i, or targets itself when rows is nil: the targets of
// logits computed for rows only.
func TargetsAt(targets, rows []int32) []int32 {
	if rows == nil {
		return targets
	}
	out := make([]int32, len(rows))
	for i, r := range rows {
		out[i] = targets[r]
	}
	return out
}

// SelectLabelled asks the model run with ctx for the logits of the labelled rows of targets only
// (ctx.LogitRows = LabelledRows) and returns the targets of the logits it will return: the policy of
// training, evaluation and scoring in one place.
func SelectLabelled(ctx *nn.Context, targets []int32) []int32 {
	ctx.LogitRows = LabelledRows(targets)
	return TargetsAt(targets, ctx.LogitRows)
}

// RowHead runs a model's output head on the final hidden states: on every row, or, when the pass
// context names LogitRows, on those rows only (the head is the largest matrix of a small model, and
// its logits at unlabelled tokens are never used). A model keeps one RowHead next to its buffers.
type RowHead struct {
	rows  []int32
	h, dh *tensor.Tensor // gathered hidden states and their gradient, [N, D] (the first rows used)
}

// headContext is ctx for the head's own call: the padding mask and labels of ctx describe every row
// of the batch, not the gathered ones, so they are dropped.
func headContext(ctx *nn.Context) *nn.Context {
	c := *ctx
	c.Rows, c.Labels = nil, nil
	return &c
}

// Forward computes head(hf) for hf [N, D]: into logits [N, V] and returns it, or, with
// ctx.LogitRows set, into its first len(LogitRows) rows and returns those.
func (r *RowHead) Forward(ctx *nn.Context, head *nn.Linear, hf, logits *tensor.Tensor) *tensor.Tensor {
	r.rows = ctx.LogitRows
	if r.rows == nil {
		head.Forward(ctx, hf, logits)
		return logits
	}
	be := ctx.Backend
	n, d, k := hf.Dim(0), hf.Dim(1), len(r.rows)
	if r.h == nil || r.h.Dim(0) != n || r.h.Dim(1) != d {
		r.h, r.dh = be.Zeros(n, d), be.Zeros(n, d)
	}
	h, out := r.h.Rows(0, k), logits.Rows(0, k)
	be.EmbeddingForward(h, hf, r.rows)
	head.Forward(headContext(ctx), h, out)
	return out
}

// Backward accumulates the head's gradients and, into dh [N, D], the gradient w.r.t. hf from
// dlogits, which has the shape the last Forward returned.
func (r *RowHead) Backward(ctx *nn.Context, head *nn.Linear, hf, dlogits, dh *tensor.Tensor) {
	if r.rows == nil {
		head.Backward(ctx, hf, dlogits, dh)
		return
	}
	be := ctx.Backend
	k := len(r.rows)
	dsel := r.dh.Rows(0, k)
	be.Fill(dsel, 0)
	head.Backward(headContext(ctx), r.h.Rows(0, k), dlogits, dsel)
	be.EmbeddingBackward(dh, dsel, r.rows)
}
