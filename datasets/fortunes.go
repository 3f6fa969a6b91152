package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

var srcFortunes = Source{Package: "fortunes", Registry: Apt, Version: "1:1.99.1-7.3",
	License: "BSD-3-Clause (fortune-mod, Debian copyright file); quotations collected from many authors",
	Path:    "usr/share/games/fortunes"}

// fortuneSkip are fortune files left out: pictures, whose layout white-space normalisation breaks.
var fortuneSkip = []string{"ascii-art"}

func init() {
	register(Dataset{Name: "fortunes", Kind: Corpus,
		Description: "fortune(6) quotations and jokes (Debian fortunes + fortunes-min, not the offensive set), consecutive fortunes of one file in ~1000-character chunks",
		License:     srcFortunes.License, Sources: []Source{srcFortunes},
		build: func(b *builder) error {
			recs, err := fortunesCorpus(b)
			if err != nil {
				return err
			}
			b.note("unit: one fortune (hard-wrapped lines rejoined, short lines such as verse kept, runs of spaces collapsed, backspace overstrike removed); fortunes separated by a blank line")
			b.note("left out: %s", strings.Join(fortuneSkip, ", "))
			return b.writeText("fortunes.jsonl", recs)
		}})
}

// fortuneFiles lists the fortune files of dir: regular files without a dot in their name (the
// .dat indexes and .u8 links are skipped), sorted.
func fortuneFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || strings.Contains(n, ".") || slices.Contains(fortuneSkip, n) {
			continue
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no fortune files", dir)
	}
	slices.Sort(out)
	return out, nil
}

// fortunesCorpus chunks the fortunes of every file.
func fortunesCorpus(b *builder) ([]textRec, error) {
	dir, err := b.find(srcFortunes)
	if err != nil {
		return nil, err
	}
	files, err := fortuneFiles(dir)
	if err != nil {
		return nil, err
	}
	var recs []textRec
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for i, t := range chunk(splitFortunes(toUTF8(data)), "\n\n") {
			recs = append(recs, textRec{Text: t, ID: fmt.Sprintf("fortunes/%s#%d", name, i)})
		}
	}
	return recs, nil
}

// overstrike matches a character followed by a backspace (the old way to underline or bold).
var overstrike = regexp.MustCompile(`[^\x08]\x08`)

// splitFortunes splits a fortune file at its "%" lines, reflows and normalises each fortune.
func splitFortunes(s string) []string {
	s = overstrike.ReplaceAllString(strings.ReplaceAll(s, "\r\n", "\n"), "")
	var out []string
	var cur []string
	flush := func() {
		if f := normLines(reflow(cur)); f != "" {
			out = append(out, f)
		}
		cur = cur[:0]
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "%" {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return out
}

// reflowWidth is the length from which a fortune line counts as filled: the next line continues
// its paragraph.
const reflowWidth = 55

// reflow joins the hard-wrapped lines of a fortune into paragraphs: a line continues the one
// before when that one is at least reflowWidth characters long (it was wrapped because it was
// full), it is indented no deeper than that one (deeper indentation starts verse, tables or an
// attribution) and it does not start with a dash ("-- Mark Twain"). Short lines (verse, dialogue)
// keep their breaks.
func reflow(lines []string) string {
	var b strings.Builder
	prevLen, prevIndent := 0, 0
	for i, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		t := strings.TrimLeft(l, " \t")
		ind := indentWidth(l[:len(l)-len(t)])
		switch {
		case i == 0:
		case prevLen >= reflowWidth && t != "" && ind <= prevIndent && t[0] != '-':
			b.WriteByte(' ')
		default:
			b.WriteByte('\n')
		}
		b.WriteString(l)
		prevLen, prevIndent = runes(l), ind
	}
	return b.String()
}

// indentWidth is the width of leading white space, tabs to multiples of 8.
func indentWidth(ws string) int {
	w := 0
	for _, c := range ws {
		if c == '\t' {
			w += 8 - w%8
		} else {
			w++
		}
	}
	return w
}
