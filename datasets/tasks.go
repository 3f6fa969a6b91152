package datasets

import "unicode"

// Sizes of task inputs, in characters: a prompt stays under ~256 tokens of an 8k-entry BPE
// tokenizer (English runs at about 3.5–4.5 characters a token at that vocabulary size; e-mail with
// URLs and odd spellings nearer 3), instruction and answer included.
const (
	passageTarget = 450 // passages of speeches and Brown documents
	passageMax    = 600
	subjectMax    = 100 // e-mail subject
	bodyMax       = 350 // start of an e-mail body
)

// passages merges the units of one document into passages of about passageTarget characters (at
// most passageMax), joined by sep; a last passage shorter than chunkMin is dropped unless it is
// the only one.
func passages(units []string, sep string) []string {
	var split []string
	for _, u := range units {
		if u != "" {
			split = append(split, splitLong(u, passageMax)...)
		}
	}
	out := mergeUnits(split, sep, passageTarget, passageMax)
	if k := len(out); k >= 2 && runes(out[k-1]) < chunkMin {
		out = out[:k-1]
	}
	return out
}

// minLetterShare is the share of letters among the non-space characters below which a passage
// counts as a table (budget figures in some addresses) and is not asked.
const minLetterShare = 0.6

// isProse tells whether at least minLetterShare of the non-space characters of s are letters.
func isProse(s string) bool {
	letters, other := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case !unicode.IsSpace(r):
			other++
		}
	}
	return float64(letters) >= minLetterShare*float64(letters+other)
}

// writeTaskSplits writes NAME.{train,valid,test}.jsonl. A prompt that occurs more than once is
// kept only once, in the first of test, valid, train where it occurs (and dropped everywhere when
// it has two completions within that split); classification tasks are then balanced per split
// (balance) and every split is shuffled by the seed.
func (b *builder) writeTaskSplits(name string, bySplit map[string][]taskRec, classify bool) error {
	seen := map[string]bool{}
	dropped := 0
	for _, s := range []string{Test, Valid, Train} {
		first := map[string]int{} // prompt → index in kept
		conflict := map[string]bool{}
		var kept []taskRec
		for _, r := range bySplit[s] {
			if seen[r.Prompt] {
				dropped++
				continue
			}
			if i, dup := first[r.Prompt]; dup {
				dropped++
				if kept[i].Completion != r.Completion {
					conflict[r.Prompt] = true
				}
				continue
			}
			first[r.Prompt] = len(kept)
			kept = append(kept, r)
		}
		out := kept[:0:0]
		for _, r := range kept {
			seen[r.Prompt] = true
			if conflict[r.Prompt] {
				dropped++
				continue
			}
			out = append(out, r)
		}
		bySplit[s] = out
	}
	if dropped > 0 {
		b.note("%d lines with a repeated prompt left out (a prompt occurs in one split only)", dropped)
	}
	for _, s := range splitNames {
		recs := bySplit[s]
		if classify {
			recs = balance(recs)
		}
		recs = shuffled(recs, b.seed, streamOf(name+"/"+s))
		if err := b.writeTask(name+"."+s+".jsonl", s, recs, classify); err != nil {
			return err
		}
	}
	return nil
}
