package datasets

import (
	"github.com/eva-lora/eva/internal/pcg"

	"fmt"
	"maps"
	"slices"
	"testing"
)

func TestAssignSplits(t *testing.T) {
	docs := map[string][]string{}
	for label, n := range map[string]int{"a": 50, "b": 7, "c": 3, "d": 2} {
		for i := 0; i < n; i++ {
			docs[label] = append(docs[label], fmt.Sprintf("%s-%d", label, i))
		}
	}
	got := assignSplits(docs)
	// Same input in another order: same assignment (no seed, no map-order dependence).
	rev := map[string][]string{}
	for l, ids := range docs {
		r := slices.Clone(ids)
		slices.Reverse(r)
		rev[l] = r
	}
	if again := assignSplits(rev); !maps.Equal(got, again) {
		t.Error("assignment depends on input order")
	}
	want := map[string][3]int{"a": {40, 5, 5}, "b": {5, 1, 1}, "c": {1, 1, 1}, "d": {2, 0, 0}} // train, valid, test
	for label, ids := range docs {
		var n [3]int
		for _, id := range ids {
			n[slices.Index(splitNames, got[id])]++
		}
		if n != want[label] {
			t.Errorf("label %s: train/valid/test = %v, want %v", label, n, want[label])
		}
	}
}

func TestBalance(t *testing.T) {
	var recs []taskRec
	for i := 0; i < 30; i++ {
		label := " x"
		if i%3 == 0 {
			label = " y"
		}
		recs = append(recs, taskRec{Prompt: fmt.Sprint(i), Completion: label, ID: fmt.Sprint("id", i)})
	}
	out := balance(recs)
	count := map[string]int{}
	for _, r := range out {
		count[r.Completion]++
	}
	if count[" x"] != 10 || count[" y"] != 10 {
		t.Errorf("balanced counts %v, want 10 each", count)
	}
	pos := map[string]int{}
	for i, r := range recs {
		pos[r.ID] = i
	}
	for i := 1; i < len(out); i++ {
		if pos[out[i-1].ID] >= pos[out[i].ID] {
			t.Errorf("order not kept at %d: %s then %s", i, out[i-1].ID, out[i].ID)
		}
	}
}

func TestPermutation(t *testing.T) {
	p := pcg.Permutation(1000, 7, 3)
	seen := make([]bool, len(p))
	for _, v := range p {
		if seen[v] {
			t.Fatalf("%d twice", v)
		}
		seen[v] = true
	}
	if !slices.Equal(p, pcg.Permutation(1000, 7, 3)) {
		t.Error("not deterministic")
	}
	if slices.Equal(p, pcg.Permutation(1000, 8, 3)) || slices.Equal(p, pcg.Permutation(1000, 7, 4)) {
		t.Error("seed or stream ignored")
	}
}
