// Package nn holds the building blocks of eva's models, each with an explicit Forward and Backward
// (in the style of llm.c) instead of a general autograd graph.
//
// Blocks keep parameters, never activations: the caller (a model) keeps each block's forward inputs
// and hands them back to Backward. Following the tensor.Backend convention, Backward methods
// ACCUMULATE into input gradients and parameter gradients; parameter gradients exist only when they
// were requested (their tensors are nil otherwise), so LoRA training computes no base-weight gradients.
package nn

import "github.com/eva-lora/eva/tensor"

// Context carries what every block needs during one forward or backward pass.
type Context struct {
	// Backend runs the kernels.
	Backend tensor.Backend
	// Rows marks, for each row (token) of the current batch, whether it is a real token (true) or
	// padding (false). Capture hooks use it to skip padding; nil means every row is real.
	Rows []bool
	// Labels holds, for each row, the label of that token in Hugging Face's convention (-100 =
	// ignored), or is nil when the batch has no labels. Capture hooks may use it as a token mask.
	Labels []int32
	// Blocks, when positive, stops a model's forward pass after that many transformer blocks: no
	// logits are computed (calibration needs only the inputs of layers in those blocks).
	Blocks int
	// LogitRows, when non-nil, asks a model's forward pass for the logits of those rows only, in that
	// order ([len(LogitRows), V] instead of [N, V]); Backward then takes their gradient. Training and
	// evaluation set it to the labelled rows (model.LabelledRows).
	LogitRows []int32
	// Training enables training-only behaviour (adapter dropout).
	Training bool
	// Seed drives the randomness of a training pass (dropout masks); the trainer sets a new value per
	// micro-batch so that a resumed run draws the same masks again.
	Seed uint64
}
