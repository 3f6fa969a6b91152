package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Split patterns. Hugging Face tokenizers match Split regexes with Oniguruma, whose syntax (look-ahead,
// Unicode-aware \s) Go's regexp lacks. Instead of a general regex engine, this file holds hand-written
// scanners that reproduce, match for match, the few regexes that real byte-level tokenizers use; a
// pattern string not among them is rejected when the file is loaded.
//
// Character classes follow Oniguruma's Unicode semantics: \p{L} is general category L, \p{N} is N, and
// \s is the White_Space property (unicode.IsSpace). A byte that is not valid UTF-8 counts as one
// character outside all three classes.

// splitPattern finds pattern matches in a string.
type splitPattern interface {
	// matchAt returns the end of the match that starts at byte offset i of s, or -1 if none does.
	matchAt(s string, i int) int
}

// Regexes recognised in Split pre-tokenizers, exactly as they appear in tokenizer.json.
const (
	// gpt2Regex is GPT-2's pre-tokenization regex; the ByteLevel pre-tokenizer uses it when use_regex is set.
	gpt2Regex = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// llama3Regex is the regex of Llama 3 (and of OpenAI's cl100k): digits in groups of up to three.
	llama3Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// qwen2Regex is the regex of Qwen2 and Qwen3: like Llama 3's, with single digits.
	qwen2Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// knownRegex returns the scanner for a recognised regex.
func knownRegex(pattern string) (splitPattern, bool) {
	switch pattern {
	case gpt2Regex:
		return gpt2Pattern{}, true
	case llama3Regex:
		return llamaPattern{maxDigits: 3}, true
	case qwen2Regex:
		return llamaPattern{maxDigits: 1}, true
	}
	return nil, false
}

// runeClass is the class of a character for the pre-tokenization regexes.
type runeClass uint8

const (
	classNone   runeClass = iota // past the end of the string
	classLetter                  // \p{L}
	classNumber                  // \p{N}
	classSpace                   // \s
	classOther                   // [^\s\p{L}\p{N}], including bytes that are not valid UTF-8
)

var asciiClass [utf8.RuneSelf]runeClass

func init() {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		asciiClass[r] = classifyRune(r)
	}
}

func classifyRune(r rune) runeClass {
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

// charAt returns the character at byte offset i of s, its size in bytes and its class.
func charAt(s string, i int) (rune, int, runeClass) {
	if i >= len(s) {
		return -1, 0, classNone
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return r, 1, classOther
	}
	return r, size, classifyRune(r)
}

// classRunEnd returns the end of the run of characters of class c starting at i, stopping after
// max characters when max > 0.
func classRunEnd(s string, i int, c runeClass, max int) int {
	for n := 0; max <= 0 || n < max; n++ {
		_, size, cl := charAt(s, i)
		if cl != c {
			break
		}
		i += size
	}
	return i
}

// newlineRunEnd returns the end of the run of '\r' and '\n' starting at i.
func newlineRunEnd(s string, i int) int {
	for i < len(s) && (s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// contractionEnd matches 's|'t|'re|'ve|'m|'ll|'d at i; with fold, case-insensitively as Oniguruma's
// (?i:...) does (where the long s 'ſ' folds to 's').
func contractionEnd(s string, i int, fold bool) int {
	if i >= len(s) || s[i] != '\'' {
		return -1
	}
	lower := func(r rune) rune {
		if !fold {
			return r
		}
		if r == 'ſ' {
			return 's'
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}
	r1, n1, _ := charAt(s, i+1)
	switch lower(r1) {
	case 's', 't', 'm', 'd':
		return i + 1 + n1
	case 'r', 'v', 'l':
		want := 'e'
		if lower(r1) == 'l' {
			want = 'l'
		}
		if r2, n2, _ := charAt(s, i+1+n1); lower(r2) == want {
			return i + 1 + n1 + n2
		}
	}
	return -1
}

// spaceMatchEnd implements `\s+(?!\S)|\s+` for a whitespace run starting at i: the whole run when it
// ends the string, otherwise all but its last character, or the lone character if the run has one.
func spaceMatchEnd(s string, i int) int {
	end, lastStart := i, i
	for {
		_, size, cl := charAt(s, end)
		if cl != classSpace {
			break
		}
		lastStart = end
		end += size
	}
	if end == len(s) || lastStart == i {
		return end
	}
	return lastStart
}

// gpt2Pattern scans gpt2Regex.
type gpt2Pattern struct{}

func (gpt2Pattern) matchAt(s string, i int) int {
	if e := contractionEnd(s, i, false); e >= 0 {
		return e
	}
	r0, n0, c0 := charAt(s, i)
	switch c0 {
	case classNone:
		return -1
	case classLetter, classNumber, classOther: // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
		return classRunEnd(s, i, c0, 0)
	}
	if r0 == ' ' {
		if _, _, c1 := charAt(s, i+n0); c1 != classSpace && c1 != classNone {
			return classRunEnd(s, i+n0, c1, 0)
		}
	}
	return spaceMatchEnd(s, i)
}

// llamaPattern scans llama3Regex (maxDigits 3) and qwen2Regex (maxDigits 1).
type llamaPattern struct{ maxDigits int }

func (p llamaPattern) matchAt(s string, i int) int {
	if e := contractionEnd(s, i, true); e >= 0 {
		return e
	}
	r0, n0, c0 := charAt(s, i)
	if c0 == classNone {
		return -1
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c0 == classLetter {
		return classRunEnd(s, i, classLetter, 0)
	}
	if r0 != '\r' && r0 != '\n' && c0 != classNumber {
		if _, _, c1 := charAt(s, i+n0); c1 == classLetter {
			return classRunEnd(s, i+n0, classLetter, 0)
		}
	}
	// \p{N}{1,max}
	if c0 == classNumber {
		return classRunEnd(s, i, classNumber, p.maxDigits)
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	if c0 == classOther {
		return newlineRunEnd(s, classRunEnd(s, i, classOther, 0))
	}
	if r0 == ' ' {
		if _, _, c1 := charAt(s, i+n0); c1 == classOther {
			return newlineRunEnd(s, classRunEnd(s, i+n0, classOther, 0))
		}
	}
	// \s*[\r\n]+ : the whitespace run up to and including its last '\r' or '\n'.
	lastNewline := -1
	for j := i; ; {
		r, size, cl := charAt(s, j)
		if cl != classSpace {
			break
		}
		if r == '\r' || r == '\n' {
			lastNewline = j
		}
		j += size
	}
	if lastNewline >= 0 {
		return lastNewline + 1
	}
	return spaceMatchEnd(s, i)
}

// literalPattern matches a fixed string (a Split pattern given as {"String": ...}).
type literalPattern string

func (p literalPattern) matchAt(s string, i int) int {
	if p != "" && strings.HasPrefix(s[i:], string(p)) {
		return i + len(p)
	}
	return -1
}

// span is a part of a string: a pattern match or the text between matches.
type span struct {
	start, end int
	match      bool
}

// findSpans cuts s into matches of p (found left to right without overlap) and the gaps between them.
func findSpans(s string, p splitPattern) []span {
	if s == "" {
		return []span{{0, 0, false}}
	}
	var spans []span
	eachSpan(s, p, func(sp span) { spans = append(spans, sp) })
	return spans
}

// eachSpan calls fn, in order, for every match of p in s and every non-empty gap between matches.
func eachSpan(s string, p splitPattern, fn func(span)) {
	lit, isLiteral := p.(literalPattern)
	prev := 0
	for i := 0; i < len(s); {
		if isLiteral {
			// Jump straight to the next occurrence of a literal.
			k := -1
			if lit != "" {
				k = strings.Index(s[i:], string(lit))
			}
			if k < 0 {
				break
			}
			i += k
		}
		end := p.matchAt(s, i)
		if end <= i { // no match here (patterns used here never match the empty string)
			_, size, _ := charAt(s, i)
			i += size
			continue
		}
		if prev != i {
			fn(span{prev, i, false})
		}
		fn(span{i, end, true})
		prev, i = end, end
	}
	if prev != len(s) {
		fn(span{prev, len(s), false})
	}
}

// SplitGPT2 calls fn with every piece of text that GPT-2's pre-tokenizer regex cuts it into, in
// order (the raw bytes, before the byte-level mapping); together they spell text. Tokenizer
// trainers use it to count words exactly as this package later splits them.
func SplitGPT2(text string, fn func(word string)) {
	eachSpan(text, gpt2Pattern{}, func(sp span) { fn(text[sp.start:sp.end]) })
}
