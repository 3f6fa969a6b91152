// Package bench runs named, reproducible comparisons of LoRA initialisations: training runs with
// identical seeds and budgets, and the measures they are compared by (losses at fixed steps, steps to
// a target loss, held-out loss, task accuracy, initialisation time).
package bench

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/tensor"
)

// SequenceLogProbs returns, for each example, the summed log-probability of its learned tokens
// (labels ≠ -100) under the model, batched by batchSize.
func SequenceLogProbs(be tensor.Backend, m model.Model, exs []data.Example, batchSize int, pad int32) ([]float64, error) {
	out := make([]float64, 0, len(exs))
	for start := 0; start < len(exs); start += batchSize {
		chunk := exs[start:min(start+batchSize, len(exs))]
		b := data.Batches(chunk, len(chunk), 0, pad)[0]
		ctx := model.Context(be, b)
		selected := model.SelectLabelled(ctx, b.Targets())
		logits, err := m.Forward(ctx, b)
		if err != nil {
			return nil, err
		}
		losses := be.Zeros(len(selected))
		be.CrossEntropyForward(losses, logits, selected)
		sums := make([]float64, b.B)
		for k, v := range be.ToHost(losses) {
			row := k
			if ctx.LogitRows != nil {
				row = int(ctx.LogitRows[k])
			}
			if selected[k] >= 0 {
				sums[row/b.S] -= float64(v)
			}
		}
		out = append(out, sums...)
	}
	return out, nil
}

// Item is one test question: a prompt and its correct completion.
type Item struct {
	Prompt, Completion string
}

// Accuracy is the share of items whose correct completion has the highest log-probability among
// the candidates (a classification task's label set), each candidate scored as the completion of
// the item's prompt, the prompt cut to its last tokens when the whole is longer than maxLen (0 = no
// limit; the model then sees what training showed it). Ties count as wrong.
func Accuracy(be tensor.Backend, m model.Model, enc data.Encoder, items []Item, candidates []string, batchSize, maxLen int, pad int32) (float64, error) {
	if len(items) == 0 || len(candidates) < 2 {
		return math.NaN(), fmt.Errorf("accuracy: %d items and %d candidates (want ≥ 1 and ≥ 2)", len(items), len(candidates))
	}
	exs := make([]data.Example, 0, len(items)*len(candidates))
	for _, it := range items {
		for _, c := range candidates {
			ex, err := data.PromptCompletion(enc, it.Prompt, c)
			if err != nil {
				return math.NaN(), fmt.Errorf("accuracy: %q + %q: %w", it.Prompt, c, err)
			}
			exs = append(exs, ex)
		}
	}
	scores, err := SequenceLogProbs(be, m, keepEnd(exs, maxLen), batchSize, pad)
	if err != nil {
		return math.NaN(), err
	}
	right := 0
	for i, it := range items {
		best, bestScore, tie := -1, math.Inf(-1), false
		for j := range candidates {
			s := scores[i*len(candidates)+j]
			switch {
			case s > bestScore:
				best, bestScore, tie = j, s, false
			case s == bestScore:
				tie = true
			}
		}
		if !tie && best >= 0 && candidates[best] == it.Completion {
			right++
		}
	}
	return float64(right) / float64(len(items)), nil
}

// Greedy extends ids by up to maxNew tokens, each the most likely next token, stopping after eos
// (when eos ≥ 0). It recomputes the whole sequence per token: meant for short answers.
func Greedy(be tensor.Backend, m model.Model, ids []int32, maxNew int, eos int32) ([]int32, error) {
	return greedy(be, m, ids, maxNew, eos, nil)
}

// greedy is Greedy that also stops once stop, given the tokens generated so far, returns true.
func greedy(be tensor.Backend, m model.Model, ids []int32, maxNew int, eos int32, stop func(out []int32) bool) ([]int32, error) {
	seq := append([]int32(nil), ids...)
	vocab := m.Config().VocabSize
	for range maxNew {
		b := &data.Batch{B: 1, S: len(seq), IDs: seq, Lengths: []int32{int32(len(seq))}}
		ctx := model.Context(be, b)
		ctx.LogitRows = []int32{int32(len(seq) - 1)}
		logits, err := m.Forward(ctx, b)
		if err != nil {
			return nil, err
		}
		last := be.ToHost(logits)[:vocab]
		best := 0
		for i, v := range last {
			if v > last[best] {
				best = i
			}
		}
		seq = append(seq, int32(best))
		if int32(best) == eos || (stop != nil && stop(seq[len(ids):])) {
			break
		}
	}
	return seq[len(ids):], nil
}

// Codec encodes and decodes text (a tokenizer).
type Codec interface {
	data.Encoder
	Decode(ids []int32, skipSpecial bool) string
}

// ExactMatch is the share of items whose greedy continuation of the prompt (up to maxNew tokens,
// stopping at eos) equals the completion, both with surrounding white space trimmed. A continuation
// stops early once its text can no longer match (cannotMatch): a wrong answer mostly costs one
// forward pass instead of maxNew.
func ExactMatch(be tensor.Backend, m model.Model, codec Codec, items []Item, maxNew int, eos int32) (float64, error) {
	if len(items) == 0 {
		return math.NaN(), fmt.Errorf("exact match: no items")
	}
	right := 0
	for _, it := range items {
		ids, err := codec.Encode(it.Prompt, true)
		if err != nil {
			return math.NaN(), err
		}
		out, err := greedy(be, m, ids, maxNew, eos, func(out []int32) bool {
			return cannotMatch(codec.Decode(out, true), it.Completion)
		})
		if err != nil {
			return math.NaN(), err
		}
		if strings.TrimSpace(codec.Decode(out, true)) == strings.TrimSpace(it.Completion) {
			right++
		}
	}
	return float64(right) / float64(len(items)), nil
}

// cannotMatch reports whether a continuation whose text so far is got can no longer equal want once
// both are trimmed of surrounding white space. More tokens only append text, except that a later
// token may still change the last rune (an unfinished UTF-8 sequence, a space that a decoder's
// clean-up removes), so got without its last rune must begin want, or be want followed by white
// space. Text holding U+FFFD (undecodable bytes that later tokens may complete) is never judged.
func cannotMatch(got, want string) bool {
	if strings.ContainsRune(got, utf8.RuneError) {
		return false
	}
	g := strings.TrimLeftFunc(got, unicode.IsSpace)
	_, last := utf8.DecodeLastRuneInString(g)
	g = g[:len(g)-last]
	w := strings.TrimSpace(want)
	if strings.HasPrefix(w, g) {
		return false
	}
	return !strings.HasPrefix(g, w) || strings.TrimSpace(g[len(w):]) != ""
}
