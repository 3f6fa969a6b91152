package bpetrain

import (
	"unicode"
	"unicode/utf8"
)

// Pre-tokenization as Hugging Face's ByteLevel pre-tokenizer does it with add_prefix_space false and
// use_regex true: the text is cut by GPT-2's regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// and every piece is a word whose bytes the trainer merges. Go's regexp has no look-ahead, so the
// regex is matched by hand (as hf/tokenizer does at run time): \p{L} is unicode.IsLetter, \p{N}
// unicode.IsNumber and \s unicode.IsSpace (the White_Space property), so training and encoding cut
// text at the same places. A byte that is not valid UTF-8 counts as one character of the last class.

// charClass is a character's class for the regex.
type charClass uint8

const (
	classEnd    charClass = iota // past the end of the text
	classLetter                  // \p{L}
	classNumber                  // \p{N}
	classSpace                   // \s
	classOther                   // [^\s\p{L}\p{N}]
)

var asciiClasses [utf8.RuneSelf]charClass

func init() {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		asciiClasses[r] = classOf(r)
	}
}

func classOf(r rune) charClass {
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.IsSpace(r):
		return classSpace
	}
	return classOther
}

// next returns the character at byte offset i of s: its rune, size in bytes and class.
func next(s string, i int) (rune, int, charClass) {
	if i >= len(s) {
		return -1, 0, classEnd
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1, asciiClasses[c]
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return r, 1, classOther
	}
	return r, size, classOf(r)
}

// runEnd returns the end of the run of class c that starts at i.
func runEnd(s string, i int, c charClass) int {
	for {
		_, size, cl := next(s, i)
		if cl != c {
			return i
		}
		i += size
	}
}

// contraction returns the end of 's, 't, 're, 've, 'm, 'll or 'd at i (case-sensitive), or -1.
func contraction(s string, i int) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return -1
	}
	switch s[i+1] {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		if i+2 < len(s) && s[i+2] == 'e' {
			return i + 3
		}
	case 'l':
		if i+2 < len(s) && s[i+2] == 'l' {
			return i + 3
		}
	}
	return -1
}

// wordEnd returns the end of the regex match that starts at i < len(s); the regex matches at every
// position, so the result is always greater than i.
func wordEnd(s string, i int) int {
	if e := contraction(s, i); e >= 0 {
		return e
	}
	r0, n0, c0 := next(s, i)
	if c0 != classSpace { // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+` without the space
		return runEnd(s, i, c0)
	}
	if r0 == ' ' {
		if _, _, c1 := next(s, i+n0); c1 != classSpace && c1 != classEnd {
			return runEnd(s, i+n0, c1)
		}
	}
	// `\s+(?!\S)|\s+`: the whole whitespace run at the end of the text, else all of it but its last
	// character (which then starts the next word), or the single character of a run of one.
	end, last := i, i
	for {
		_, size, cl := next(s, end)
		if cl != classSpace {
			break
		}
		last = end
		end += size
	}
	if end == len(s) || last == i {
		return end
	}
	return last
}

// SplitWords calls fn with every pre-tokenized word of text, in order; the words are substrings of
// text (raw bytes, not yet mapped to the byte-level alphabet) and together they spell it.
func SplitWords(text string, fn func(word string)) {
	for i := 0; i < len(text); {
		e := wordEnd(text, i)
		fn(text[i:e])
		i = e
	}
}

// The byte-level alphabet of GPT-2: each byte is shown as one printable character. Printable bytes
// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68, in byte order, become U+0100,
// U+0101, ... Token strings in tokenizer.json are written in this alphabet.
var byteRunes [256]rune

func init() {
	extra := rune(0x100)
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteRunes[b] = rune(b)
		} else {
			byteRunes[b] = extra
			extra++
		}
	}
}

// ByteLevel maps the bytes of s to the byte-level alphabet ("hello world" → "helloĠworld").
func ByteLevel(s string) string {
	buf := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		buf = utf8.AppendRune(buf, byteRunes[s[i]])
	}
	return string(buf)
}
