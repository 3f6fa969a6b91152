package datasets

import (
	"hash/fnv"
	"math"
	"slices"

	"github.com/eva-lora/eva/internal/pcg"
)

// Split names.
const (
	Train = "train"
	Valid = "valid"
	Test  = "test"
)

// splitNames are the task splits in file order.
var splitNames = []string{Train, Valid, Test}

// Fractions of the documents of each label that go to the valid and test splits.
const (
	validFrac = 0.1
	testFrac  = 0.1
)

// splitSalt makes the split hash specific to this package; changing it reshuffles every split.
const splitSalt = "eva-datasets-split-v1\x00"

// stableHash is FNV-1a 64 of the salted key: the fixed order that splits and balancing follow.
func stableHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(splitSalt))
	h.Write([]byte(key))
	return h.Sum64()
}

// byHash sorts keys by their stable hash (ties by the key) in place.
func byHash(keys []string) {
	slices.SortFunc(keys, func(a, b string) int {
		ha, hb := stableHash(a), stableHash(b)
		switch {
		case ha < hb:
			return -1
		case ha > hb:
			return 1
		}
		return cmpString(a, b)
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// assignSplits puts documents into splits, stratified by label: the documents of each label, in
// stable-hash order, give the first round(testFrac·n) to test, the next round(validFrac·n) to
// valid (at least one each when the label has three or more) and the rest to train. The result
// maps document id to split name and does not depend on any seed.
func assignSplits(docsByLabel map[string][]string) map[string]string {
	out := map[string]string{}
	for _, docs := range docsByLabel {
		docs = slices.Clone(docs)
		byHash(docs)
		n := len(docs)
		nt := int(math.Round(testFrac * float64(n)))
		nv := int(math.Round(validFrac * float64(n)))
		if n >= 3 {
			nt, nv = max(nt, 1), max(nv, 1)
		}
		for i, d := range docs {
			switch {
			case i < nt:
				out[d] = Test
			case i < nt+nv:
				out[d] = Valid
			default:
				out[d] = Train
			}
		}
	}
	return out
}

// balance keeps, of each label, as many records as the rarest label has, chosen in stable-hash
// order of their ids; the result keeps the input order.
func balance(recs []taskRec) []taskRec {
	byLabel := map[string][]string{}
	for _, r := range recs {
		byLabel[r.Completion] = append(byLabel[r.Completion], r.ID)
	}
	least := -1
	for _, ids := range byLabel {
		if least < 0 || len(ids) < least {
			least = len(ids)
		}
	}
	keep := map[string]bool{}
	for _, ids := range byLabel {
		byHash(ids)
		for _, id := range ids[:least] {
			keep[id] = true
		}
	}
	out := recs[:0:0]
	for _, r := range recs {
		if keep[r.ID] {
			out = append(out, r)
		}
	}
	return out
}

// shuffled returns xs in the order of pcg.Permutation(len(xs), seed, stream).
func shuffled[T any](xs []T, seed, stream uint64) []T {
	out := make([]T, len(xs))
	for i, j := range pcg.Permutation(len(xs), seed, stream) {
		out[i] = xs[j]
	}
	return out
}

// streamOf derives a PCG stream from a name, so each file is shuffled independently.
func streamOf(name string) uint64 { return stableHash("stream:" + name) }
