package data

import (
	"github.com/eva-lora/eva/internal/pcg"

	"fmt"
	"math"
	"slices"
)

// splitStream is the PCG stream of the train/validation split; epochs use streams 0, 1, 2, ...
const splitStream = 0x73706c6974 // "split"

// Holdout says how much of a training file is held out for validation: a Fraction in (0, 1)
// (rounded up to whole examples, as Hugging Face's train_test_split does) or a Count of examples.
// The zero value holds out nothing.
type Holdout struct {
	Fraction float64
	Count    int
}

// IsZero reports whether nothing is held out.
func (h Holdout) IsZero() bool { return h.Fraction == 0 && h.Count == 0 }

// size is the number of examples held out of n.
func (h Holdout) size(n int) (int, error) {
	switch {
	case h.Fraction != 0 && h.Count != 0:
		return 0, fmt.Errorf("give a validation fraction (%g) or a count (%d), not both", h.Fraction, h.Count)
	case h.Count < 0:
		return 0, fmt.Errorf("the validation count %d is negative", h.Count)
	case h.Count > 0:
		return h.Count, nil
	case !(h.Fraction > 0 && h.Fraction < 1):
		return 0, fmt.Errorf("the validation fraction %g is not in (0, 1)", h.Fraction)
	}
	return int(math.Ceil(h.Fraction * float64(n))), nil
}

// Split holds out examples for validation: the first k of a permutation drawn from
// PCG(seed, splitStream), where k is h's size for len(exs). Both parts keep the examples' original
// order. An empty part is an error that names it.
func Split(exs []Example, h Holdout, seed uint64) (train, valid []Example, err error) {
	k, err := h.size(len(exs))
	if err != nil {
		return nil, nil, err
	}
	if k == 0 {
		return nil, nil, fmt.Errorf("the validation split is empty (%d examples, fraction %g)", len(exs), h.Fraction)
	}
	if k >= len(exs) {
		return nil, nil, fmt.Errorf("the training split is empty: %d of %d examples are held out for validation", k, len(exs))
	}
	held := pcg.Permutation(len(exs), seed, splitStream)[:k]
	slices.Sort(held)
	valid = make([]Example, 0, k)
	train = make([]Example, 0, len(exs)-k)
	for i, ex := range exs {
		if len(held) > 0 && held[0] == i {
			valid = append(valid, ex)
			held = held[1:]
		} else {
			train = append(train, ex)
		}
	}
	return train, valid, nil
}
