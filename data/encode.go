package data

import (
	"errors"
	"fmt"
)

// Tokenisation of the line shapes. Token boundaries are found without offsets: text is always
// tokenised whole, and a character position p is mapped to a token index by tokenising text[:p]
// the same way and taking the length of the common prefix of the two id lists. Where p falls
// between tokens that is exactly the number of tokens before p; where a token straddles p (a merge
// across it), the common prefix stops at that token.

var errNoTokenizer = errors.New("needs a tokenizer (the model directory has no tokenizer.json)")

// encodeText tokenises a "text" line with the tokenizer's special tokens (BOS where it adds one).
func encodeText(enc Encoder, text string) (Example, error) {
	if enc == nil {
		return Example{}, fmt.Errorf(`"text" %w`, errNoTokenizer)
	}
	ids, err := enc.Encode(text, true)
	if err != nil {
		return Example{}, err
	}
	if len(ids) == 0 {
		return Example{}, errors.New("the text encodes to no tokens")
	}
	return Example{IDs: ids, Kind: KindText}, nil
}

// encodeCompletion tokenises prompt+completion as one text (with the tokenizer's special tokens),
// so the ids are exactly those of the concatenation, and appends EOS when the tokenizer has one and
// has not put it there. Labels: IgnoreIndex for the tokens that lie wholly in the prompt; the ids
// from the first token that holds any of the completion (a token merged across the boundary is
// learned); EOS is learned.
func encodeCompletion(enc Encoder, prompt, completion string) (Example, error) {
	if enc == nil {
		return Example{}, fmt.Errorf(`"prompt" and "completion" %w`, errNoTokenizer)
	}
	ids, err := enc.Encode(prompt+completion, true)
	if err != nil {
		return Example{}, err
	}
	pre, err := enc.Encode(prompt, true)
	if err != nil {
		return Example{}, err
	}
	start := commonPrefix(pre, ids)
	if eos, ok := eosOf(enc); ok && (len(ids) == 0 || ids[len(ids)-1] != eos) {
		ids = append(ids, eos)
	}
	if start >= len(ids) {
		return Example{}, errors.New("the completion encodes to no tokens")
	}
	labels := make([]int32, len(ids))
	for i := range labels {
		labels[i] = IgnoreIndex
		if i >= start {
			labels[i] = ids[i]
		}
	}
	return Example{IDs: ids, Labels: labels, Kind: KindCompletion}, nil
}

// encodeChat renders a conversation, tokenises it without added special tokens (the template
// writes them, as with Hugging Face's apply_chat_template) and learns the tokens that hold any
// byte of an assistant span.
func encodeChat(enc Encoder, tmpl *ChatTemplate, conv *Conversation) (Example, error) {
	text, spans, err := tmpl.AssistantSpans(conv)
	if err != nil {
		return Example{}, err
	}
	ids, err := enc.Encode(text, false)
	if err != nil {
		return Example{}, err
	}
	labels := make([]int32, len(ids))
	for i := range labels {
		labels[i] = IgnoreIndex
	}
	learned := 0
	for _, sp := range spans {
		pre, err := enc.Encode(text[:sp.Start], false)
		if err != nil {
			return Example{}, err
		}
		start := commonPrefix(pre, ids)
		if pre, err = enc.Encode(text[:sp.End], false); err != nil {
			return Example{}, err
		}
		end := commonPrefix(pre, ids)
		if end < len(pre) && end < len(ids) {
			end++ // the token that straddles the span's end holds some of it
		}
		for t := start; t < end; t++ {
			labels[t] = ids[t]
			learned++
		}
	}
	if learned == 0 {
		return Example{}, errors.New("the conversation has no assistant token to learn")
	}
	return Example{IDs: ids, Labels: labels, Kind: KindChat}, nil
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// eosOf returns the encoder's EOS id, when it can tell one.
func eosOf(enc Encoder) (int32, bool) {
	if s, ok := enc.(SpecialTokens); ok {
		return s.EOS()
	}
	return 0, false
}

// PromptCompletion tokenises one prompt/completion pair exactly as a {"prompt", "completion"} line
// is (labels only on the completion and EOS); callers that score candidate completions use it.
func PromptCompletion(enc Encoder, prompt, completion string) (Example, error) {
	return encodeCompletion(enc, prompt, completion)
}
