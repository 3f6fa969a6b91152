package datasets

import (
	"fmt"
	"strings"
)

// A quiz pattern (quiz(6)) is text with meta-characters: pat|pat alternatives, {pat} optional,
// [pat] grouping; a backslash quotes the next character. It is parsed into alternatives of
// sequences of items.

// qAlt is a set of alternatives (a pattern, or the inside of {} or []).
type qAlt []qSeq

// qSeq is a sequence of items.
type qSeq []qItem

// qItem is a literal, an optional pattern ({...}) or a group ([...]).
type qItem struct {
	lit      string
	sub      qAlt
	optional bool
}

// parseQuiz parses a quiz pattern.
func parseQuiz(s string) (qAlt, error) {
	p := &quizParser{s: []rune(s)}
	a, err := p.alt(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) {
		return nil, fmt.Errorf("unmatched %q at character %d of %q", p.s[p.i], p.i+1, s)
	}
	return a, nil
}

type quizParser struct {
	s []rune
	i int
}

// alt parses alternatives up to the closing bracket close (0 at top level).
func (p *quizParser) alt(close rune) (qAlt, error) {
	var a qAlt
	var seq qSeq
	var lit strings.Builder
	flushLit := func() {
		if lit.Len() > 0 {
			seq = append(seq, qItem{lit: lit.String()})
			lit.Reset()
		}
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			lit.WriteRune(p.s[p.i+1])
			p.i += 2
			continue
		case c == '|':
			flushLit()
			a = append(a, seq)
			seq = nil
		case c == '{' || c == '[':
			flushLit()
			p.i++
			want := '}'
			if c == '[' {
				want = ']'
			}
			sub, err := p.alt(want)
			if err != nil {
				return nil, err
			}
			seq = append(seq, qItem{sub: sub, optional: c == '{'})
			continue // alt consumed the closing bracket
		case c == '}' || c == ']':
			if c != close {
				return nil, fmt.Errorf("unexpected %q at character %d of %q", c, p.i+1, string(p.s))
			}
			flushLit()
			p.i++
			return append(a, seq), nil
		default:
			lit.WriteRune(c)
		}
		p.i++
	}
	if close != 0 {
		return nil, fmt.Errorf("missing %q in %q", close, string(p.s))
	}
	flushLit()
	return append(a, seq), nil
}

// accentMarks are the ASCII marks the quiz files put beside a letter for an accent, and the
// letters they compose to.
var accentMarks = map[rune]map[rune]rune{
	'\'': {'a': 'á', 'e': 'é', 'i': 'í', 'o': 'ó', 'u': 'ú', 'y': 'ý', 'A': 'Á', 'E': 'É', 'I': 'Í', 'O': 'Ó', 'U': 'Ú'},
	'`':  {'a': 'à', 'e': 'è', 'i': 'ì', 'o': 'ò', 'u': 'ù', 'A': 'À', 'E': 'È'},
	'^':  {'a': 'â', 'e': 'ê', 'i': 'î', 'o': 'ô', 'u': 'û', 'A': 'Â', 'E': 'Ê', 'O': 'Ô'},
	'~':  {'a': 'ã', 'n': 'ñ', 'o': 'õ', 'A': 'Ã', 'N': 'Ñ', 'O': 'Õ'},
	',':  {'c': 'ç', 'C': 'Ç'},
	'"':  {'a': 'ä', 'e': 'ë', 'i': 'ï', 'o': 'ö', 'u': 'ü', 'A': 'Ä', 'O': 'Ö', 'U': 'Ü'},
	':':  {'a': 'ä', 'e': 'ë', 'i': 'ï', 'o': 'ö', 'u': 'ü', 'A': 'Ä', 'O': 'Ö', 'U': 'Ü'},
}

// accented recognises an accent group such as ['e|e'|e] (a mark before or after a letter, and
// the bare letter) and returns the composed letter.
func accented(a qAlt) (string, bool) {
	if len(a) < 2 {
		return "", false
	}
	first := a[0].literal()
	rs := []rune(first)
	if len(rs) != 2 {
		return "", false
	}
	mark, letter := rs[0], rs[1]
	if _, ok := accentMarks[mark]; !ok {
		mark, letter = rs[1], rs[0]
	}
	c, ok := accentMarks[mark][letter]
	if !ok {
		return "", false
	}
	for _, s := range a[1:] {
		if s.literal() == string(letter) {
			return string(c), true
		}
	}
	return "", false
}

// literal is the text of a sequence made of literals only ("" otherwise).
func (s qSeq) literal() string {
	var b strings.Builder
	for _, it := range s {
		if it.sub != nil {
			return ""
		}
		b.WriteString(it.lit)
	}
	return b.String()
}

// render is the canonical text of a pattern: the first alternative, optional parts included
// except parenthesised hints such as {(integers)}, accent groups composed (['e|e'|e] → é).
func (a qAlt) render() string {
	if c, ok := accented(a); ok {
		return c
	}
	if len(a) == 0 {
		return ""
	}
	var b strings.Builder
	for _, it := range a[0] {
		switch {
		case it.sub == nil:
			b.WriteString(it.lit)
		case it.optional && strings.HasPrefix(it.sub.render(), "("):
		default:
			b.WriteString(it.sub.render())
		}
	}
	return b.String()
}

// expand returns every text the pattern accepts, at most limit of them (white space not yet
// normalised).
func (a qAlt) expand(limit int) []string {
	var out []string
	for _, s := range a {
		out = append(out, s.expand(limit-len(out))...)
		if len(out) >= limit {
			break
		}
	}
	if c, ok := accented(a); ok && len(out) < limit {
		out = append(out, c)
	}
	return out
}

func (s qSeq) expand(limit int) []string {
	outs := []string{""}
	for _, it := range s {
		var opts []string
		if it.sub == nil {
			opts = []string{it.lit}
		} else {
			opts = it.sub.expand(limit)
			if it.optional {
				opts = append(opts, "")
			}
		}
		var next []string
		for _, o := range outs {
			for _, x := range opts {
				if len(next) < limit {
					next = append(next, o+x)
				}
			}
		}
		outs = next
	}
	return outs
}

// quizTitle renders a category title of the index: "cap{ital}" → "capital", "{Chinese{-}}year"
// → "Chinese year".
func quizTitle(pat string) (string, error) {
	a, err := parseQuiz(pat)
	if err != nil {
		return "", err
	}
	return normSpace(strings.ReplaceAll(a.render(), "-", " ")), nil
}

// splitQuizLine splits a line at the colons outside brackets that are not quoted.
func splitQuizLine(line string) []string {
	var out []string
	depth := 0
	start := 0
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			i++
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ':':
			if depth == 0 {
				out = append(out, string(rs[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, string(rs[start:]))
}
