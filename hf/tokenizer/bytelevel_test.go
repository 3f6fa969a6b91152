package tokenizer

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestByteLevelAlphabet(t *testing.T) {
	seen := map[rune]bool{}
	for b := 0; b < 256; b++ {
		r := byteToRune[b]
		if seen[r] {
			t.Fatalf("rune %U used twice", r)
		}
		seen[r] = true
		if !unicode.IsPrint(r) || r == ' ' {
			t.Errorf("byte %#x maps to unprintable %U", b, r)
		}
		if b >= '!' && b <= '~' && r != rune(b) {
			t.Errorf("printable ASCII %q maps to %U", rune(b), r)
		}
	}
	// Known anchors of GPT-2's table: space is Ġ, newline is Ċ, 0xAD is the last remapped byte.
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', 0x00: 'Ā', 0xAD: 'Ń'} {
		if byteToRune[b] != want {
			t.Errorf("byte %#x -> %q, want %q", b, byteToRune[b], want)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if got := byteLevelDecode(nil, byteLevelEncode(string(all))); string(got) != string(all) {
		t.Errorf("byte-level round trip of all 256 bytes failed")
	}
}

func TestLossyUTF8(t *testing.T) {
	const r = "\uFFFD"
	cases := map[string]string{
		"plain":            "plain",
		"\xe4\xb8\xad":     "中",
		"\xe4\xb8":         r,         // truncated 3-byte sequence: one maximal subpart
		"\xff\xfe":         r + r,     // bytes that never start a sequence
		"\xed\xa0\x80":     r + r + r, // surrogate: ED only allows 80..9F next
		"\xf0\x9f\x98":     r,
		"a\xc3":            "a" + r,
		"\xc0\xaf":         r + r, // overlong lead byte
		"\xe0\x80\x80":     r + r + r,
		"\xf4\x90\x80\x80": r + r + r + r, // above U+10FFFF
		"\xe4\xb8A":        r + "A",
	}
	for in, want := range cases {
		got := lossyUTF8([]byte(in))
		if got != want {
			t.Errorf("lossyUTF8(%+q) = %+q, want %+q", in, got, want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("lossyUTF8(%+q) is not valid UTF-8", in)
		}
	}
}
