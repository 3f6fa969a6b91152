package datasets

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	srcBible = Source{Package: "bible-kjv", Registry: Apt, Version: "4.38",
		License: "GPL-2+ (the bible program)", Path: "usr/bin/bible"}
	srcBibleText = Source{Package: "bible-kjv-text", Registry: Apt, Version: "4.38",
		License: "King James Version text: public domain (copyright expired); packaging GPL-2+", Path: "usr/lib/bible.data"}
)

// kjvRange is the verse range that dumps the whole Bible.
const kjvRange = "Gen1:1-Rev22:21"

func init() {
	register(Dataset{Name: "kjv", Kind: Corpus,
		Description: "King James Bible, verses of one chapter grouped into ~1000-character chunks",
		License:     "public domain (text)", Sources: []Source{srcBible, srcBibleText},
		build: func(b *builder) error {
			recs, err := kjvRecords(b)
			if err != nil {
				return err
			}
			b.note("unit: consecutive verses of one chapter, joined by spaces, without verse numbers")
			return b.writeText("kjv.jsonl", recs)
		}})
}

// kjvRecords dumps the Bible with the installed bible program and chunks it.
func kjvRecords(b *builder) ([]textRec, error) {
	bin, err := b.find(srcBible)
	if err != nil {
		return nil, err
	}
	data, err := b.find(srcBibleText)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-f", "-p", filepath.Dir(data), "-d", filepath.Base(data), kjvRange)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s -f %s: %v: %s", bin, kjvRange, err, strings.TrimSpace(stderr.String()))
	}
	return parseKJV(bytes.NewReader(out), "bible -f output")
}

// kjvLine matches a verse line of `bible -f`: "Ge1:1 In the beginning ...", "1Sm3:4 ...".
var kjvLine = regexp.MustCompile(`^([1-3]?[A-Z][A-Za-z]*)(\d+):(\d+) (.*)$`)

// parseKJV reads `bible -f` output (one verse a line; a line without a reference continues the
// verse before) and chunks the verses of each chapter.
func parseKJV(r io.Reader, name string) ([]textRec, error) {
	type chapter struct {
		ref    string
		verses []string
	}
	var chapters []chapter
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := kjvLine.FindStringSubmatch(line)
		if m == nil {
			if len(chapters) == 0 || len(chapters[len(chapters)-1].verses) == 0 {
				return nil, fmt.Errorf("%s:%d: expected a verse reference such as Ge1:1, found %q", name, lineNo, clip(line, 60))
			}
			c := &chapters[len(chapters)-1]
			c.verses[len(c.verses)-1] += " " + normSpace(line)
			continue
		}
		ref := m[1] + m[2]
		if len(chapters) == 0 || chapters[len(chapters)-1].ref != ref {
			chapters = append(chapters, chapter{ref: ref})
		}
		c := &chapters[len(chapters)-1]
		c.verses = append(c.verses, normSpace(m[4]))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(chapters) == 0 {
		return nil, fmt.Errorf("%s: no verses", name)
	}
	var recs []textRec
	for _, c := range chapters {
		for i, t := range chunk(c.verses, " ") {
			recs = append(recs, textRec{Text: t, ID: fmt.Sprintf("kjv/%s#%d", c.ref, i)})
		}
	}
	return recs, nil
}
