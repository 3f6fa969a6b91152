// Package data reads training and evaluation examples (JSONL), turns them into token ids and groups
// them into right-padded batches. It knows nothing of models: tokenisation goes through the Encoder
// interface.
package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Encoder turns text into token ids (a tokenizer).
type Encoder interface {
	// Encode returns the ids of text, with the tokenizer's special tokens (such as BOS) when addSpecial.
	Encode(text string, addSpecial bool) ([]int32, error)
}

// Example is one tokenised sequence with its labels (nil = the ids themselves).
type Example struct {
	// IDs are the token ids.
	IDs []int32
	// Labels, when not nil, has one label per id (IgnoreIndex = no loss).
	Labels []int32
}

// line is the union of the accepted JSONL line shapes.
type line struct {
	Text     *string  `json:"text"`
	InputIDs *[]int64 `json:"input_ids"`
	Labels   *[]int64 `json:"labels"`
}

// ReadJSONL reads a JSONL file whose lines are {"text": ...} (tokenised with enc, special tokens added)
// or pre-tokenised {"input_ids": [...], "labels": [...]} (labels optional, -100 = ignored). Blank lines
// are skipped. enc may be nil when every line is pre-tokenised. Errors name the file and line.
func ReadJSONL(path string, enc Encoder) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	exs, err := ParseJSONL(f, enc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return exs, nil
}

// ParseJSONL is ReadJSONL on a reader; errors name the line.
func ParseJSONL(r io.Reader, enc Encoder) ([]Example, error) {
	br := bufio.NewReader(r)
	var exs []Example
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if t := bytes.TrimSpace(raw); len(t) > 0 {
			ex, perr := parseLine(t, enc)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
			exs = append(exs, ex)
		}
		if err != nil {
			break
		}
	}
	if len(exs) == 0 {
		return nil, errors.New("no examples (the file is empty)")
	}
	return exs, nil
}

func parseLine(raw []byte, enc Encoder) (Example, error) {
	var l line
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&l); err != nil {
		return Example{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return Example{}, errors.New("invalid JSON: more than one value on the line")
	}
	switch {
	case l.Text != nil && l.InputIDs != nil:
		return Example{}, errors.New(`both "text" and "input_ids" given; use one`)
	case l.Text != nil:
		if l.Labels != nil {
			return Example{}, errors.New(`"labels" needs "input_ids", not "text"`)
		}
		if enc == nil {
			return Example{}, errors.New(`"text" needs a tokenizer (the model directory has no tokenizer.json)`)
		}
		ids, err := enc.Encode(*l.Text, true)
		if err != nil {
			return Example{}, err
		}
		if len(ids) == 0 {
			return Example{}, errors.New("the text encodes to no tokens")
		}
		return Example{IDs: ids}, nil
	case l.InputIDs != nil:
		if len(*l.InputIDs) == 0 {
			return Example{}, errors.New(`"input_ids" is empty`)
		}
		ex := Example{IDs: make([]int32, len(*l.InputIDs))}
		for i, v := range *l.InputIDs {
			if v < 0 || v > 1<<31-1 {
				return Example{}, fmt.Errorf("input_ids[%d] = %d is not a token id", i, v)
			}
			ex.IDs[i] = int32(v)
		}
		if l.Labels != nil {
			if len(*l.Labels) != len(ex.IDs) {
				return Example{}, fmt.Errorf("%d labels for %d input_ids", len(*l.Labels), len(ex.IDs))
			}
			ex.Labels = make([]int32, len(ex.IDs))
			for i, v := range *l.Labels {
				if v != IgnoreIndex && (v < 0 || v > 1<<31-1) {
					return Example{}, fmt.Errorf("labels[%d] = %d is neither a token id nor -100", i, v)
				}
				ex.Labels[i] = int32(v)
			}
		}
		return ex, nil
	default:
		return Example{}, errors.New(`expected an object with "text" or "input_ids"`)
	}
}

// Batches groups examples in order into right-padded batches of at most size sequences, truncating
// each to maxLen tokens (0 = no limit) and padding with padID. Padding positions get label IgnoreIndex.
func Batches(exs []Example, size, maxLen int, padID int32) []*Batch {
	var out []*Batch
	for start := 0; start < len(exs); start += size {
		group := exs[start:min(start+size, len(exs))]
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
		out = append(out, b)
	}
	return out
}

func clip(n, maxLen int) int {
	if maxLen > 0 && n > maxLen {
		return maxLen
	}
	return n
}
