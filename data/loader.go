package data

import (
	"github.com/eva-lora/eva/internal/pcg"

	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// LoaderConfig says how a Loader batches its examples.
type LoaderConfig struct {
	// BatchSize is the number of sequences per batch (> 0).
	BatchSize int
	// MaxLen truncates each example to that many tokens (0 = no limit).
	MaxLen int
	// Pad is the id written at padding positions (their labels are IgnoreIndex).
	Pad int32
	// Seed draws each epoch's order: a permutation from PCG(Seed, epoch).
	Seed uint64
	// Sequential keeps the examples' order in every epoch (no shuffle).
	Sequential bool
	// DropLast drops an epoch's last batch when it has fewer than BatchSize sequences.
	DropLast bool
	// Epochs ends the data after that many epochs (Next returns io.EOF); 0 = never.
	Epochs int
}

// Position is where a Loader stands: the next batch it yields is batch Batch (from 0) of epoch
// Epoch (from 0). It is plain data, to be saved with a checkpoint.
type Position struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
}

// Loader yields training batches epoch after epoch, each epoch in its own order drawn from
// (Seed, epoch), so the batches at a Position are a function of the examples, the config and the
// position alone: Seek to a saved Position and the run goes on with exactly the batches it would
// have had. Not safe for concurrent use.
type Loader struct {
	exs        []Example
	cfg        LoaderConfig
	perEpoch   int
	pos        Position
	order      []int
	orderEpoch int // the epoch order belongs to; -1: none yet
}

// NewLoader makes a loader over exs (which it keeps; do not change them) starting at epoch 0.
func NewLoader(exs []Example, cfg LoaderConfig) (*Loader, error) {
	switch {
	case len(exs) == 0:
		return nil, errors.New("loader: no examples")
	case cfg.BatchSize <= 0:
		return nil, fmt.Errorf("loader: batch size %d, want > 0", cfg.BatchSize)
	case cfg.MaxLen < 0:
		return nil, fmt.Errorf("loader: maximum length %d, want ≥ 0", cfg.MaxLen)
	case cfg.Epochs < 0:
		return nil, fmt.Errorf("loader: %d epochs, want ≥ 0", cfg.Epochs)
	}
	per := len(exs) / cfg.BatchSize
	if !cfg.DropLast && len(exs)%cfg.BatchSize != 0 {
		per++
	}
	if per == 0 {
		return nil, fmt.Errorf("loader: %d examples make no full batch of %d (DropLast)", len(exs), cfg.BatchSize)
	}
	for i, ex := range exs {
		if len(ex.IDs) == 0 || (ex.Labels != nil && len(ex.Labels) != len(ex.IDs)) {
			return nil, fmt.Errorf("loader: example %d has %d ids and %d labels", i, len(ex.IDs), len(ex.Labels))
		}
	}
	return &Loader{exs: exs, cfg: cfg, perEpoch: per, orderEpoch: -1}, nil
}

// BatchesPerEpoch is the number of batches in one epoch.
func (l *Loader) BatchesPerEpoch() int { return l.perEpoch }

// Examples is the number of examples.
func (l *Loader) Examples() int { return len(l.exs) }

// Position is where the loader stands (the batch Next yields next).
func (l *Loader) Position() Position { return l.pos }

// PositionAt is the position after step batches from the start.
func (l *Loader) PositionAt(step int64) Position {
	return Position{Epoch: int(step / int64(l.perEpoch)), Batch: int(step % int64(l.perEpoch))}
}

// Seek moves the loader to p; Batch may equal BatchesPerEpoch (the end of an epoch, which is the
// start of the next).
func (l *Loader) Seek(p Position) error {
	if p.Epoch < 0 || p.Batch < 0 || p.Batch > l.perEpoch {
		return fmt.Errorf("loader: position epoch %d batch %d is outside 0..%d batches per epoch", p.Epoch, p.Batch, l.perEpoch)
	}
	if p.Batch == l.perEpoch {
		p = Position{Epoch: p.Epoch + 1}
	}
	l.pos = p
	return nil
}

// Next returns the batch at the current position and moves past it; after Epochs epochs it
// returns io.EOF.
func (l *Loader) Next() (*Batch, error) {
	if l.cfg.Epochs > 0 && l.pos.Epoch >= l.cfg.Epochs {
		return nil, io.EOF
	}
	if l.orderEpoch != l.pos.Epoch {
		l.order = l.epochOrder(l.pos.Epoch)
		l.orderEpoch = l.pos.Epoch
	}
	start := l.pos.Batch * l.cfg.BatchSize
	idx := l.order[start:min(start+l.cfg.BatchSize, len(l.order))]
	group := make([]Example, len(idx))
	for i, j := range idx {
		group[i] = l.exs[j]
	}
	l.pos.Batch++
	if l.pos.Batch == l.perEpoch {
		l.pos = Position{Epoch: l.pos.Epoch + 1}
	}
	return makeBatch(group, l.cfg.MaxLen, l.cfg.Pad), nil
}

// epochOrder is the order of the examples in an epoch.
func (l *Loader) epochOrder(epoch int) []int {
	if l.cfg.Sequential {
		o := make([]int, len(l.exs))
		for i := range o {
			o[i] = i
		}
		return o
	}
	return pcg.Permutation(len(l.exs), l.cfg.Seed, uint64(epoch))
}

// Fingerprint is a hash (FNV-1a, 64 bits, in hex) of the examples and of the config apart from
// Epochs: save it with a Position and compare it on resuming, to be sure the batches are the same.
func (l *Loader) Fingerprint() string {
	h := fnv.New64a()
	c := l.cfg
	buf := binary.LittleEndian.AppendUint64(nil, uint64(c.BatchSize))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(c.MaxLen))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(c.Pad))
	buf = binary.LittleEndian.AppendUint64(buf, c.Seed)
	buf = append(buf, byte(boolBit(c.Sequential)|boolBit(c.DropLast)<<1))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(l.exs)))
	h.Write(buf)
	for _, ex := range l.exs {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(ex.IDs))<<1|uint64(boolBit(ex.Labels != nil)))
		for _, id := range ex.IDs {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(id))
		}
		for _, lb := range ex.Labels {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(lb))
		}
		h.Write(buf)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func boolBit(b bool) int {
	if b {
		return 1
	}
	return 0
}
