package data

import (
	"fmt"
	"strings"
	"unicode"
)

// This file applies Jinja2's whitespace rules to a template's source before the template engine
// sees it, the way Hugging Face's apply_chat_template configures Jinja2: trim_blocks=True,
// lstrip_blocks=True, keep_trailing_newline=False, plus the explicit "-" and "+" markers. The rules
// follow jinja2/lexer.py (3.1):
//
//   - the source's line breaks become "\n" and one trailing "\n" is dropped;
//   - "{%-", "{{-", "{#-" strip all whitespace before the tag; "-%}", "-}}", "-#}" all after it;
//   - lstrip_blocks: spaces and tabs between the start of a line and a "{%" or "{#" tag (not "{{",
//     not "{%+") are removed;
//   - trim_blocks: one "\n" right after "%}" or "#}" (not "+%}") is removed;
//   - {% raw %} ... {% endraw %} is literal text (its begin tag has no trim_blocks).
//
// Every piece of literal text is then written as a string expression {{ '...' }}, comments are
// dropped and the markers are taken off the tags, so the engine (github.com/ardanlabs/jinja
// v1.8.0) has no text of its own left to trim: its trimming looks past expressions to the nearest
// text (v1.8.0 renders "{% if x -%}A: {{ y }}{%- endif %}" as "A:Y" where Jinja2 gives "A: Y").
// Newlines that the rules remove are kept inside empty comments, so the engine's error messages
// still give the source's line numbers.
//
// {% generation %} and {% endgeneration %} (Hugging Face's marks of the assistant's text) become
// marker strings when markGeneration is set; the renderer finds the assistant spans by them.

const (
	genStart = "\x00eva:generation\x01"
	genEnd   = "\x00eva:endgeneration\x01"
)

// normalizedTemplate is a template rewritten for the engine.
type normalizedTemplate struct {
	src        string
	generation bool // the template has {% generation %} blocks
}

// normalizeTemplate applies Jinja2's whitespace rules (see above) to src.
func normalizeTemplate(src string) (normalizedTemplate, error) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	src = strings.TrimSuffix(src, "\n")
	var w tplWriter
	pos, line := 0, 1
	lineStarting := true
	for pos < len(src) {
		open, kind := nextTag(src, pos)
		if open < 0 {
			w.text(src[pos:])
			break
		}
		sign := byte(0)
		if p := open + 2; p < len(src) && (src[p] == '-' || src[p] == '+') {
			sign = src[p]
		}
		text := src[pos:open]
		switch {
		case sign == '-':
			text = trimRightSpace(text)
		case sign != '+' && kind != '{':
			text = lstripBlock(text, lineStarting)
		}
		w.text(text)
		w.lines(strings.Count(src[pos:open], "\n") - strings.Count(text, "\n"))
		line += strings.Count(src[pos:open], "\n")

		bodyStart := open + 2
		if sign != 0 {
			bodyStart++
		}
		if kind == '%' {
			if end, ok := matchRaw(src, bodyStart, "raw"); ok {
				n, err := w.raw(src, end, line)
				if err != nil {
					return normalizedTemplate{}, err
				}
				line += strings.Count(src[open:n], "\n")
				lineStarting = n > 0 && src[n-1] == '\n'
				pos = n
				continue
			}
		}
		closeAt, trimRight, err := tagEnd(src, bodyStart, kind, line)
		if err != nil {
			return normalizedTemplate{}, err
		}
		body := src[bodyStart:closeAt]
		keep := false
		if kind != '{' && strings.HasSuffix(body, "+") {
			body, keep = body[:len(body)-1], true
		}
		after := closeAt + 2
		if trimRight {
			after++
		}
		w.tag(kind, body)
		line += strings.Count(src[open:after], "\n")
		switch {
		case trimRight:
			n := after + len(src[after:]) - len(trimLeftSpace(src[after:]))
			line += strings.Count(src[after:n], "\n")
			w.lines(strings.Count(src[after:n], "\n"))
			after = n
		case kind != '{' && !keep && after < len(src) && src[after] == '\n':
			after++
			line++
			w.lines(1)
		}
		lineStarting = after > 0 && src[after-1] == '\n'
		pos = after
	}
	return normalizedTemplate{src: w.b.String(), generation: w.generation}, nil
}

// nextTag finds the next "{{", "{%" or "{#" at or after pos; kind is its second character.
func nextTag(src string, pos int) (at int, kind byte) {
	for i := pos; i+1 < len(src); i++ {
		if src[i] == '{' && (src[i+1] == '{' || src[i+1] == '%' || src[i+1] == '#') {
			return i, src[i+1]
		}
	}
	return -1, 0
}

// tagEnd finds the closer of a tag whose body starts at from, skipping quoted strings in
// expressions and statements as the engine does. closeAt is the index of the closer ("%}", "}}",
// "#}"), after a "-" when trimRight.
func tagEnd(src string, from int, kind byte, line int) (closeAt int, trimRight bool, err error) {
	closer := "}}"
	switch kind {
	case '%':
		closer = "%}"
	case '#':
		closer = "#}"
	}
	for i := from; i < len(src); i++ {
		c := src[i]
		if kind != '#' && (c == '\'' || c == '"') {
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
			continue
		}
		if c == '-' && strings.HasPrefix(src[i+1:], closer) {
			return i, true, nil
		}
		if strings.HasPrefix(src[i:], closer) {
			return i, false, nil
		}
	}
	what := map[byte]string{'{': "expression", '%': "statement", '#': "comment"}[kind]
	return 0, false, fmt.Errorf("line %d: unclosed %s tag", line, what)
}

// matchRaw reports whether the statement body at from is `\s*word\s*` closed by "%}" or "-%}",
// and where the tag (with its "-%}\s*" stripping) ends.
func matchRaw(src string, from int, word string) (end int, ok bool) {
	i := from + len(src[from:]) - len(trimLeftSpace(src[from:]))
	if !strings.HasPrefix(src[i:], word) {
		return 0, false
	}
	i += len(word)
	i += len(src[i:]) - len(trimLeftSpace(src[i:]))
	switch {
	case strings.HasPrefix(src[i:], "-%}"):
		rest := src[i+3:]
		return len(src) - len(trimLeftSpace(rest)), true
	case strings.HasPrefix(src[i:], "%}"):
		return i + 2, true
	}
	return 0, false
}

// tplWriter builds the rewritten template.
type tplWriter struct {
	b          strings.Builder
	generation bool
}

// text writes literal text as a string expression; its newlines stay raw inside the quotes.
func (w *tplWriter) text(s string) {
	if s == "" {
		return
	}
	w.b.WriteString("{{ '")
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '\'' {
			w.b.WriteByte('\\')
		}
		w.b.WriteByte(s[i])
	}
	w.b.WriteString("' }}")
}

// lines keeps n removed newlines in an empty comment.
func (w *tplWriter) lines(n int) {
	if n > 0 {
		w.b.WriteString("{#" + strings.Repeat("\n", n) + "#}")
	}
}

// tag writes a tag without its whitespace markers; comments keep only their newlines, and the
// generation tags become marker strings.
func (w *tplWriter) tag(kind byte, body string) {
	switch kind {
	case '#':
		w.lines(strings.Count(body, "\n"))
	case '{':
		w.b.WriteString("{{" + body + "}}")
	default:
		switch strings.TrimSpace(body) {
		case "generation":
			w.generation = true
			w.b.WriteString("{{ '" + genStart + "' }}")
			w.lines(strings.Count(body, "\n"))
		case "endgeneration":
			w.b.WriteString("{{ '" + genEnd + "' }}")
			w.lines(strings.Count(body, "\n"))
		default:
			w.b.WriteString("{%" + body + "%}")
		}
	}
}

// raw copies the text of a {% raw %} block starting at from up to its {% endraw %} and returns
// where the end tag (with its trimming) ends.
func (w *tplWriter) raw(src string, from, line int) (int, error) {
	for i := from; i+1 < len(src); i++ {
		if src[i] != '{' || src[i+1] != '%' {
			continue
		}
		j := i + 2
		sign := byte(0)
		if j < len(src) && (src[j] == '-' || src[j] == '+') {
			sign = src[j]
			j++
		}
		k := j + len(src[j:]) - len(trimLeftSpace(src[j:]))
		if !strings.HasPrefix(src[k:], "endraw") {
			continue
		}
		k += len("endraw")
		k += len(src[k:]) - len(trimLeftSpace(src[k:]))
		var end int
		switch {
		case strings.HasPrefix(src[k:], "+%}"):
			end = k + 3
		case strings.HasPrefix(src[k:], "-%}"):
			end = len(src) - len(trimLeftSpace(src[k+3:]))
		case strings.HasPrefix(src[k:], "%}"):
			end = k + 2
			if end < len(src) && src[end] == '\n' {
				end++
			}
		default:
			continue
		}
		text := src[from:i]
		lineStarting := from > 0 && src[from-1] == '\n'
		switch {
		case sign == '-':
			text = trimRightSpace(text)
		case sign != '+':
			text = lstripBlock(text, lineStarting)
		}
		w.text(text)
		w.lines(strings.Count(src[from:end], "\n") - strings.Count(text, "\n"))
		return end, nil
	}
	return 0, fmt.Errorf("line %d: {%% raw %%} without {%% endraw %%}", line)
}

// lstripBlock removes the spaces before a block tag when only whitespace stands between the start
// of the line and the tag (Jinja2's lstrip_blocks).
func lstripBlock(text string, lineStarting bool) string {
	l := strings.LastIndexByte(text, '\n') + 1
	if (l > 0 || lineStarting) && l < len(text) && trimLeftSpace(text[l:]) == "" {
		return text[:l]
	}
	return text
}

// isPySpace is Python's str.isspace for one rune (the \s of Jinja2's regexes).
func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func trimRightSpace(s string) string { return strings.TrimRightFunc(s, isPySpace) }
func trimLeftSpace(s string) string  { return strings.TrimLeftFunc(s, isPySpace) }
