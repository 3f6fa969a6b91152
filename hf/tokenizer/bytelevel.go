package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// The byte-level alphabet of GPT-2 style tokenizers: every byte maps to one printable rune. Bytes
// that are already printable ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves; the other 68 map, in
// byte order, to U+0100, U+0101, ...
var (
	byteToRune [256]rune
	runeToByte map[rune]byte
)

func init() {
	runeToByte = make(map[rune]byte, 256)
	next := rune(256)
	for b := 0; b < 256; b++ {
		r := rune(b)
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if !printable {
			r = next
			next++
		}
		byteToRune[b] = r
		runeToByte[r] = byte(b)
	}
}

// byteLevelEncode maps each byte of s to its byte-level rune.
func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}

// byteLevelDecode maps a token's runes back to bytes. A token with a rune outside the alphabet (an
// added token, say) contributes its own UTF-8 bytes unchanged.
func byteLevelDecode(dst []byte, token string) []byte {
	start := len(dst)
	for _, r := range token {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], token...)
		}
		dst = append(dst, b)
	}
	return dst
}

// lossyUTF8 converts b to a string, replacing each maximal invalid subsequence with one U+FFFD
// (the Unicode "substitution of maximal subparts" practice, as Rust's String::from_utf8_lossy does).
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			sb.Write(b[i : i+size])
			i += size
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return sb.String()
}

// maximalSubpart returns the length (at least 1) of the longest prefix of b that starts a well-formed
// UTF-8 sequence without completing it; b is known not to start with a complete valid sequence.
func maximalSubpart(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead >= 0xE1 && lead <= 0xEF:
		need = 2
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead == 0xF4:
		need, hi = 3, 0x8F
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		c := b[n]
		if k == 0 {
			if c < lo || c > hi {
				break
			}
		} else if c < 0x80 || c > 0xBF {
			break
		}
		n++
	}
	return n
}

// ByteLevel maps the bytes of s to GPT-2's byte-level alphabet ("hello world" → "helloĠworld"),
// the form of token strings in a byte-level tokenizer.json.
func ByteLevel(s string) string { return byteLevelEncode(s) }

// ByteRune is the byte-level rune that stands for byte b.
func ByteRune(b byte) rune { return byteToRune[b] }
