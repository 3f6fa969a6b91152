package tokenizer

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder turns token strings back into text. Like Hugging Face's decode_chain, each step maps a list
// of strings to a list of strings; Decode concatenates the final list.
type decoder interface {
	decodeChain(tokens []string) []string
}

// decoderSeq applies decoders in order.
type decoderSeq []decoder

func (seq decoderSeq) decodeChain(tokens []string) []string {
	for _, d := range seq {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}

// byteLevelDecoder maps byte-level runes back to bytes; invalid UTF-8 in the result becomes U+FFFD.
type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(tokens []string) []string {
	var buf []byte
	for _, t := range tokens {
		buf = byteLevelDecode(buf, t)
	}
	return []string{lossyUTF8(buf)}
}

// replaceDecoder replaces a literal in every token (SentencePiece's "▁" back to " ").
type replaceDecoder struct{ old, new string }

func (r replaceDecoder) decodeChain(tokens []string) []string {
	if r.old == "" {
		return tokens
	}
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = strings.ReplaceAll(t, r.old, r.new)
	}
	return out
}

// byteFallbackDecoder turns runs of <0xNN> tokens into the text their bytes spell, or one U+FFFD per
// byte token when those bytes are not valid UTF-8.
type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// parseByteToken parses a token of the form <0xNN> (six bytes, two hex digits, either case; a '+'
// sign before a single digit is accepted as Rust's from_str_radix does).
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	digits := t[3:5]
	if digits[0] == '+' {
		digits = digits[1:]
	}
	v, err := strconv.ParseUint(digits, 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

// fuseDecoder joins all tokens into one.
type fuseDecoder struct{}

func (fuseDecoder) decodeChain(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

// stripDecoder removes up to start leading and stop trailing occurrences of a character from every
// token.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		runes := []rune(t)
		lo := 0
		for lo < d.start && lo < len(runes) && runes[lo] == d.content {
			lo++
		}
		hi := len(runes)
		for k := 0; k < d.stop && hi > lo && runes[hi-1] == d.content; k++ {
			hi--
		}
		out[i] = string(runes[lo:hi])
	}
	return out
}
