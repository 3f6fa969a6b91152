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
	var l Loss
	for i, v := range be.ToHost(losses) {
		if targets[i] >= 0 {
			l.Sum += float64(v)
			l.Tokens++
		}
	}
	return l
}

// CrossEntropyGrad returns dlogits for the mean loss over the counted targets.
func CrossEntropyGrad(be tensor.Backend, logits *tensor.Tensor, targets []int32, tokens int) *tensor.Tensor {
	d := be.Zeros(logits.Shape()...)
	if tokens > 0 {
		be.CrossEntropyBackward(d, logits, targets, 1/float32(tokens))
	}
	return d
}
