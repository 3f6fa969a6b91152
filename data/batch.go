package data

import "fmt"

// IgnoreIndex marks a label that takes no part in the loss (Hugging Face's -100).
const IgnoreIndex = -100

// Batch is B right-padded sequences of length S, flattened row-major ([B·S]).
type Batch struct {
	// B is the number of sequences and S the padded length.
	B, S int
	// IDs are the token ids [B·S]; positions at or past a sequence's length hold padding.
	IDs []int32
	// Lengths are the real lengths [B] (1 ≤ length ≤ S).
	Lengths []int32
	// Labels [B·S] in Hugging Face's unshifted convention (position s is predicted from positions < s;
	// IgnoreIndex takes no part). Nil means the ids themselves, padding ignored.
	Labels []int32
}

// Validate checks the batch against a vocabulary size and a maximum length (0 = unlimited).
func (b *Batch) Validate(vocab, maxLen int) error {
	if b.B <= 0 || b.S <= 0 {
		return fmt.Errorf("batch: empty batch (%d sequences of length %d)", b.B, b.S)
	}
	if len(b.IDs) != b.B*b.S || len(b.Lengths) != b.B {
		return fmt.Errorf("batch: %d ids and %d lengths for %d×%d", len(b.IDs), len(b.Lengths), b.B, b.S)
	}
	if b.Labels != nil && len(b.Labels) != len(b.IDs) {
		return fmt.Errorf("batch: %d labels for %d ids", len(b.Labels), len(b.IDs))
	}
	if maxLen > 0 && b.S > maxLen {
		return fmt.Errorf("batch: sequence length %d exceeds the model's maximum of %d positions", b.S, maxLen)
	}
	for i, l := range b.Lengths {
		if l < 1 || int(l) > b.S {
			return fmt.Errorf("batch: sequence %d has length %d, want 1..%d", i, l, b.S)
		}
	}
	for i, id := range b.IDs {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("batch: token id %d at sequence %d position %d is outside the vocabulary [0, %d)", id, i/b.S, i%b.S, vocab)
		}
	}
	for i, l := range b.Labels {
		if l != IgnoreIndex && (l < 0 || int(l) >= vocab) {
			return fmt.Errorf("batch: label %d at sequence %d position %d is outside the vocabulary [0, %d)", l, i/b.S, i%b.S, vocab)
		}
	}
	return nil
}

// RowMask reports for each row whether it is a real token (not padding).
func (b *Batch) RowMask() []bool {
	m := make([]bool, b.B*b.S)
	for i := 0; i < b.B; i++ {
		for s := 0; s < int(b.Lengths[i]); s++ {
			m[i*b.S+s] = true
		}
	}
	return m
}

// Targets returns, for each row, the token it must predict: the label of the next position, or -1
// where there is none (last position, padding, ignored label). This is Hugging Face's shift.
func (b *Batch) Targets() []int32 {
	t := make([]int32, b.B*b.S)
	for i := 0; i < b.B; i++ {
		n := int(b.Lengths[i])
		for s := 0; s < b.S; s++ {
			r := i*b.S + s
			t[r] = -1
			if s+1 >= b.S {
				continue
			}
			if b.Labels != nil {
				if l := b.Labels[r+1]; l != IgnoreIndex {
					t[r] = l
				}
			} else if s+1 < n {
				t[r] = b.IDs[r+1]
			}
		}
	}
	return t
}

// Batches groups examples in order into right-padded batches of at most size sequences, truncating
// each to maxLen tokens (0 = no limit) and padding with padID. Padding positions get label IgnoreIndex.
func Batches(exs []Example, size, maxLen int, padID int32) []*Batch {
	var out []*Batch
	for start := 0; start < len(exs); start += size {
		out = append(out, makeBatch(exs[start:min(start+size, len(exs))], maxLen, padID))
	}
	return out
}

// makeBatch pads a group of examples into a batch (see Batches).
func makeBatch(group []Example, maxLen int, padID int32) *Batch {
	S := 0
	for _, ex := range group {
		S = max(S, clip(len(ex.IDs), maxLen))
	}
	b := &Batch{B: len(group), S: S, IDs: make([]int32, len(group)*S), Lengths: make([]int32, len(group)),
		Labels: make([]int32, len(group)*S)}
	for i, ex := range group {
		n := clip(len(ex.IDs), maxLen)
		b.Lengths[i] = int32(n)
		for s := 0; s < S; s++ {
			r := i*S + s
			switch {
			case s >= n:
				b.IDs[r], b.Labels[r] = padID, IgnoreIndex
			case ex.Labels != nil:
				b.IDs[r], b.Labels[r] = ex.IDs[s], ex.Labels[s]
			default:
				b.IDs[r], b.Labels[r] = ex.IDs[s], ex.IDs[s]
			}
		}
	}
	return b
}

func clip(n, maxLen int) int {
	if maxLen > 0 && n > maxLen {
		return maxLen
	}
	return n
}
