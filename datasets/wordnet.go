package datasets

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var srcWordNet = Source{Package: "wordnet-base", Registry: Apt, Version: "1:3.0-37",
	License: "WordNet 3.0 licence (Princeton; permissive, keep the copyright notice)",
	Path:    "usr/share/wordnet"}

func init() {
	register(Dataset{Name: "wordnet-glosses", Kind: Corpus,
		Description: "WordNet 3.0 synsets as sentences (words, part of speech, definition, examples), consecutive synsets in ~1000-character chunks",
		License:     srcWordNet.License, Sources: []Source{srcWordNet},
		build: func(b *builder) error {
			recs, err := wordnetCorpus(b)
			if err != nil {
				return err
			}
			b.note(`unit: one synset a line, e.g. "breathe (also respire), verb: draw air into, and expel out of, the lungs. Example: \"...\""`)
			return b.writeText("wordnet-glosses.jsonl", recs)
		}})
}

// wordnetFiles are the data files read, in order, with the part of speech of each.
var wordnetFiles = []struct{ file, pos string }{
	{"data.noun", "noun"}, {"data.verb", "verb"}, {"data.adj", "adjective"}, {"data.adv", "adverb"}}

// wordnetCorpus chunks the synset sentences of each data file.
func wordnetCorpus(b *builder) ([]textRec, error) {
	dir, err := b.find(srcWordNet)
	if err != nil {
		return nil, err
	}
	var recs []textRec
	for _, wf := range wordnetFiles {
		p := filepath.Join(dir, wf.file)
		units, err := readWordNetData(p, wf.pos)
		if err != nil {
			return nil, err
		}
		for i, t := range chunk(units, "\n") {
			recs = append(recs, textRec{Text: t, ID: fmt.Sprintf("wordnet/%s#%d", wf.pos, i)})
		}
	}
	return recs, nil
}

// readWordNetData turns every synset line of a WordNet data file into a sentence; the licence
// lines at the top (they start with a space) are skipped.
func readWordNetData(path, pos string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var out []string
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || text[0] == ' ' {
			continue
		}
		s, err := synsetSentence(text, pos)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no synsets", path)
	}
	return out, nil
}

// adjMarker is the syntactic marker WordNet appends to some adjectives: (a), (p), (ip).
var adjMarker = regexp.MustCompile(`\((a|p|ip)\)$`)

// quoted matches an example sentence of a gloss.
var quoted = regexp.MustCompile(`"([^"]+)"`)

// synsetSentence renders one line of a data file (wndb(5): offset lex_filenum ss_type w_cnt
// word lex_id ... p_cnt ... | gloss) as "word (also w2, w3), pos: definition. Examples: "…"; "…"."
func synsetSentence(line, pos string) (string, error) {
	head, gloss, ok := strings.Cut(line, " | ")
	if !ok {
		return "", fmt.Errorf("no gloss (\" | \") in synset line")
	}
	f := strings.Fields(head)
	if len(f) < 6 {
		return "", fmt.Errorf("synset line has %d fields before the gloss, want at least 6", len(f))
	}
	n, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil || n == 0 || len(f) < 4+2*int(n) {
		return "", fmt.Errorf("bad word count %q", f[3])
	}
	var words []string
	for i := 0; i < int(n); i++ {
		w := strings.ReplaceAll(adjMarker.ReplaceAllString(f[4+2*i], ""), "_", " ")
		words = append(words, w)
	}
	var b strings.Builder
	b.WriteString(words[0])
	if len(words) > 1 {
		b.WriteString(" (also " + strings.Join(words[1:], ", ") + ")")
	}
	b.WriteString(", " + pos + ":")
	def, examples := splitGloss(gloss)
	if def != "" {
		b.WriteString(" " + sentenceEnd(def))
	}
	if len(examples) > 0 {
		b.WriteString(" Example")
		if len(examples) > 1 {
			b.WriteString("s")
		}
		b.WriteString(": " + strings.Join(examples, "; ") + ".")
	}
	return normSpace(b.String()), nil
}

// splitGloss separates a gloss into its definition (the text before the first quoted example)
// and its examples, each still in quotes.
func splitGloss(gloss string) (string, []string) {
	gloss = strings.TrimSpace(gloss)
	def := gloss
	if i := strings.IndexByte(gloss, '"'); i >= 0 {
		def = gloss[:i]
	}
	def = strings.TrimRight(strings.TrimSpace(def), ";: ")
	var ex []string
	for _, m := range quoted.FindAllStringSubmatch(gloss[len(def):], -1) {
		if e := strings.TrimSpace(m[1]); e != "" {
			ex = append(ex, `"`+e+`"`)
		}
	}
	return def, ex
}

// sentenceEnd adds a full stop unless s already ends a sentence.
func sentenceEnd(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}
