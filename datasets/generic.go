package datasets

import (
	"fmt"
	"strings"
)

// genericValidPercent is the share of generic chunks, by stable hash of their id, held out for
// validation.
const genericValidPercent = 1

// genericParts are the corpora of generic, in order, with their record functions.
var genericParts = []struct {
	name    string
	sources []Source
	records func(*builder) ([]textRec, error)
}{
	{"kjv", []Source{srcBible, srcBibleText}, kjvRecords},
	{"brown", []Source{srcBrown}, brownCorpus},
	{"sotu", []Source{srcSOTU}, sotuCorpus},
	{"moby-dick", []Source{srcMobyDick}, mobyDickCorpus},
	{"wordnet-glosses", []Source{srcWordNet}, wordnetCorpus},
	{"fortunes", []Source{srcFortunes}, fortunesCorpus},
}

func init() {
	var sources []Source
	var names []string
	for _, p := range genericParts {
		sources = append(sources, p.sources...)
		names = append(names, p.name)
	}
	register(Dataset{Name: "generic", Kind: Corpus,
		Description: "all pretraining corpora (" + strings.Join(names, ", ") + "), shuffled, with a 1% held-out validation file",
		License:     "per part: see the parts' licences", Sources: sources,
		build: genericCorpus})
}

// genericCorpus writes generic.train.jsonl and generic.valid.jsonl: every part's chunks, exact
// duplicates dropped, split by stable hash of the chunk id (at least one chunk held out) and
// shuffled by the seed.
func genericCorpus(b *builder) error {
	var train, valid []textRec
	seen := map[string]bool{}
	dups := 0
	for _, p := range genericParts {
		recs, err := p.records(b)
		if err != nil {
			return fmt.Errorf("part %s: %w", p.name, err)
		}
		nt, nv, chars := 0, 0, 0
		for _, r := range recs {
			if seen[r.Text] {
				dups++
				continue
			}
			seen[r.Text] = true
			chars += runes(r.Text)
			if stableHash("generic:"+r.ID)%100 < genericValidPercent {
				valid = append(valid, r)
				nv++
			} else {
				train = append(train, r)
				nt++
			}
		}
		b.note("part %s: %d train + %d valid chunks, %d characters", p.name, nt, nv, chars)
	}
	if len(valid) == 0 && len(train) >= 2 {
		// A small corpus may hash no chunk into the valid share: hold out the lowest-hashing one.
		best := 0
		for i, r := range train {
			if stableHash("generic:"+r.ID) < stableHash("generic:"+train[best].ID) {
				best = i
			}
		}
		valid = append(valid, train[best])
		train = append(train[:best], train[best+1:]...)
	}
	if dups > 0 {
		b.note("%d chunks that repeat an earlier one word for word left out", dups)
	}
	b.note("valid: the chunks whose id hashes into %d%% (stable across seeds); both files shuffled by the seed", genericValidPercent)
	if err := b.writeText("generic.train.jsonl", shuffled(train, b.seed, streamOf("generic/train"))); err != nil {
		return err
	}
	return b.writeText("generic.valid.jsonl", shuffled(valid, b.seed, streamOf("generic/valid")))
}
