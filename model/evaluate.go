package model

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/tensor"
)

// Evaluate runs every batch forward and returns the loss over all counted tokens. When onLogits is
// not nil it receives each batch's logits [B·S, V] (valid until the next batch).
func Evaluate(be tensor.Backend, m Model, batches []*data.Batch, onLogits func(b *data.Batch, logits *tensor.Tensor)) (Loss, error) {
	var total Loss
	for i, b := range batches {
		ctx, targets := Context(be, b), b.Targets()
		if onLogits == nil {
			targets = SelectLabelled(ctx, targets)
		}
		logits, err := m.Forward(ctx, b)
		if err != nil {
			return Loss{}, fmt.Errorf("batch %d: %w", i, err)
		}
		l := CrossEntropy(be, logits, targets)
		if math.IsNaN(l.Sum) || math.IsInf(l.Sum, 0) {
			return Loss{}, fmt.Errorf("batch %d: the loss is not finite (%v)", i, l.Sum)
		}
		total.Sum += l.Sum
		total.Tokens += l.Tokens
		if onLogits != nil {
			onLogits(b, logits)
		}
	}
	return total, nil
}

// LogitDump gathers logits of successive batches into one [examples, maxLen, V] array (padding
// positions included, zero beyond a batch's own length) and writes them with the input ids.
type LogitDump struct {
	maxLen, vocab int
	padID         int64
	logits        []float32
	ids           []int64
}

// NewLogitDump prepares a dump for sequences padded with padID to maxLen over a vocabulary of size vocab.
func NewLogitDump(maxLen, vocab int, padID int32) *LogitDump {
	return &LogitDump{maxLen: maxLen, vocab: vocab, padID: int64(padID)}
}

// Add appends a batch's logits [B·S, V] (S ≤ maxLen) and ids.
func (d *LogitDump) Add(be tensor.Backend, b *data.Batch, logits *tensor.Tensor) {
	host := be.ToHost(logits)
	for i := 0; i < b.B; i++ {
		row := make([]float32, d.maxLen*d.vocab)
		copy(row, host[i*b.S*d.vocab:(i+1)*b.S*d.vocab])
		d.logits = append(d.logits, row...)
		for s := 0; s < d.maxLen; s++ {
			id := d.padID
			if s < b.S {
				id = int64(b.IDs[i*b.S+s])
			}
			d.ids = append(d.ids, id)
		}
	}
}

// Write saves tensors "logits" (F32 [examples, maxLen, V]) and "input_ids" (I64 [examples, maxLen])
// to a safetensors file, atomically.
func (d *LogitDump) Write(path string) error {
	n := len(d.ids) / d.maxLen
	ids := make([]byte, 8*len(d.ids))
	for i, v := range d.ids {
		binary.LittleEndian.PutUint64(ids[8*i:], uint64(v))
	}
	return safetensors.Write(path, []safetensors.Tensor{
		safetensors.F32("logits", []int{n, d.maxLen, d.vocab}, d.logits),
		{Name: "input_ids", DType: safetensors.Int64, Shape: []int{n, d.maxLen}, Data: ids},
	}, map[string]string{"producer": "eva eval"})
}
