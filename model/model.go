// Package model defines what every eva model offers (the Model interface), the causal-LM loss, and
// helpers shared by the architectures in models/: rotary tables and weight loading with shape checks.
package model

import (
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Param is one named parameter of a model with its gradient (nil unless requested).
type Param struct {
	// Name is the Hugging Face tensor name, e.g. "model.layers.0.self_attn.q_proj.weight".
	Name string
	// Value and Grad are in eva's layout (Linear weights [Out, In]).
	Value, Grad *tensor.Tensor
	// Transposed is true when the checkpoint stores this tensor as the transpose of Value (Conv1D).
	Transposed bool
}

// Model is a causal language model with explicit forward and backward passes.
type Model interface {
	// Config is the normalised Hugging Face configuration.
	Config() *config.Config
	// Linears lists every Linear layer in module order (the order of the checkpoint's modules).
	Linears() []*nn.Linear
	// SharedInputs maps each Linear layer that reads exactly the same input as an earlier one (in
	// module order) to the first layer of its group, e.g. k_proj and v_proj to q_proj. It comes from
	// the architecture, so EVA computes one PCA per group.
	SharedInputs() map[string]string
	// Params lists every parameter, in module order.
	Params() []Param
	// RequestGrads allocates gradients for every parameter (full fine-tuning, gradient checks).
	RequestGrads()
	// Forward runs the batch and returns logits [B·S, V] (or [len(ctx.LogitRows), V], the logits of
	// those rows), keeping the activations Backward needs. With ctx.Blocks > 0 it stops after that
	// many blocks and returns nil logits.
	Forward(ctx *nn.Context, b *data.Batch) (*tensor.Tensor, error)
	// Backward accumulates every requested gradient from dlogits, shaped as the last Forward's logits.
	Backward(ctx *nn.Context, dlogits *tensor.Tensor)
}

// Context returns the pass context for a batch: the backend, the padding mask and the labels.
func Context(be tensor.Backend, b *data.Batch) *nn.Context {
	return &nn.Context{Backend: be, Rows: b.RowMask(), Labels: b.Labels}
}

// BlocksToRun is how many of a model's n blocks a forward pass with ctx runs: ctx.Blocks when it is
// positive (the pass then stops there and returns no logits, even when ctx.Blocks ≥ n: calibration
// needs only the blocks' layer inputs, not the final norm and the output head), else n.
func BlocksToRun(ctx *nn.Context, n int) int {
	if ctx.Blocks > 0 {
		return min(ctx.Blocks, n)
	}
	return n
}
