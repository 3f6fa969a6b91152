package model

import (
	"math"

	"github.com/eva-lora/eva/tensor"
)

// Loss is a causal-LM loss: its sum over counted tokens and how many tokens counted.
type Loss struct {
	// Sum is the summed token cross-entropy in nats; Tokens is how many targets counted.
	Sum    float64
	Tokens int
}

// Mean is the mean token cross-entropy (NaN when no token counted).
func (l Loss) Mean() float64 {
	if l.Tokens == 0 {
		return math.NaN()
	}
	return l.Sum / float64(l.Tokens)
}

// Perplexity is exp(Mean).
func (l Loss) Perplexity() float64 { return math.Exp(l.Mean()) }

// CrossEntropy computes the loss of logits [N, V] against targets (negative = ignored).
func CrossEntropy(be tensor.Backend, logits *tensor.Tensor, targets []int32) Loss {
	losses := be.Zeros(logits.Dim(0))
	be.CrossEntropyForward(losses, logits, targets)
	return sumLosses(be, losses, targets)
}

// sumLosses adds the per-row losses of the counted targets in float64.
func sumLosses(be tensor.Backend, losses *tensor.Tensor, targets []int32) Loss {
	var l Loss
	for i, v := range be.ToHost(losses) {
		if targets[i] >= 0 {
			l.Sum += float64(v)
			l.Tokens++
		}
	}
	return l
}

// LossGrad computes the loss of logits [N, V] against targets (negative = ignored) and the gradient
// of its mean over the counted targets, in place: the returned gradient is the logits tensor itself,
// overwritten (a model's backward pass reads no logits, and a [N, V] buffer is saved).
func LossGrad(be tensor.Backend, logits *tensor.Tensor, targets []int32) (Loss, *tensor.Tensor) {
	tokens := CountTargets(targets)
	scale := float32(0)
	if tokens > 0 {
		scale = 1 / float32(tokens)
	}
	return LossGradScaled(be, logits, targets, scale)
}

// LossGradScaled is LossGrad with the gradient of scale × the summed loss instead of the mean: a
// step that accumulates several micro-batches passes 1/(tokens of the whole step).
func LossGradScaled(be tensor.Backend, logits *tensor.Tensor, targets []int32, scale float32) (Loss, *tensor.Tensor) {
	losses := be.Zeros(logits.Dim(0))
	be.CrossEntropyLossGrad(losses, logits, logits, targets, scale)
	return sumLosses(be, losses, targets), logits
}

// CountTargets is the number of targets that count (non-negative).
func CountTargets(targets []int32) int {
	n := 0
	for _, t := range targets {
		if t >= 0 {
			n++
		}
	}
	return n
}
