package bpetrain

import "github.com/eva-lora/eva/hf/tokenizer"

// Pre-tokenization as Hugging Face's ByteLevel pre-tokenizer does it with add_prefix_space false and
// use_regex true: the text is cut by GPT-2's regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// and every piece is a word whose bytes the trainer merges. The matching is hf/tokenizer's own, so
// training and encoding cut text at the same places.

// SplitWords calls fn with every pre-tokenized word of text, in order; the words are substrings of
// text (raw bytes, not yet mapped to the byte-level alphabet) and together they spell it.
func SplitWords(text string, fn func(word string)) { tokenizer.SplitGPT2(text, fn) }

// ByteLevel maps the bytes of s to the byte-level alphabet ("hello world" → "helloĠworld").
func ByteLevel(s string) string { return tokenizer.ByteLevel(s) }

// byteRunes is the byte-level alphabet by byte value.
var byteRunes = func() (r [256]rune) {
	for b := range 256 {
		r[b] = tokenizer.ByteRune(byte(b))
	}
	return r
}()
