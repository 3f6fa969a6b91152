package bpetrain

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveTrain is the textbook algorithm, written for clarity: at every step recount every adjacent
// pair in the current segmentation of every word, merge the most frequent pair (ties: smallest
// (left id, right id)) everywhere, left to right. It returns the merges in order with their counts.
func naiveTrain(wc *WordCounts, specials []string, vocabSize int, minFreq int64) (vocab []string, merges []Merge) {
	ids := map[string]int{}
	add := func(tok string) int {
		if id, ok := ids[tok]; ok {
			return id
		}
		ids[tok] = len(vocab)
		vocab = append(vocab, tok)
		return ids[tok]
	}
	for _, s := range specials {
		add(s)
	}
	var alphabet []string
	for b := range 256 {
		alphabet = append(alphabet, ByteLevel(string([]byte{byte(b)})))
	}
	slices.SortFunc(alphabet, func(a, b string) int { return int([]rune(a)[0] - []rune(b)[0]) })
	for _, a := range alphabet {
		add(a)
	}
	type word struct {
		syms  []int
		count int64
	}
	var words []word
	for w, c := range wc.Counts {
		var syms []int
		for i := 0; i < len(w); i++ {
			syms = append(syms, ids[ByteLevel(w[i:i+1])])
		}
		words = append(words, word{syms, c})
	}
	for len(vocab) < vocabSize {
		counts := map[[2]int]int64{}
		for _, w := range words {
			for j := 0; j+1 < len(w.syms); j++ {
				counts[[2]int{w.syms[j], w.syms[j+1]}] += w.count
			}
		}
		var best [2]int
		bestCount := int64(0)
		for p, c := range counts {
			if c > bestCount || (c == bestCount && (p[0] < best[0] || (p[0] == best[0] && p[1] < best[1]))) {
				best, bestCount = p, c
			}
		}
		if bestCount < 1 || bestCount < minFreq {
			break
		}
		r := add(vocab[best[0]] + vocab[best[1]])
		merges = append(merges, Merge{vocab[best[0]], vocab[best[1]], bestCount})
		for i, w := range words {
			var out []int
			for j := 0; j < len(w.syms); j++ {
				if j+1 < len(w.syms) && w.syms[j] == best[0] && w.syms[j+1] == best[1] {
					out = append(out, r)
					j++
				} else {
					out = append(out, w.syms[j])
				}
			}
			words[i].syms = out
		}
	}
	return vocab, merges
}

// TestTrainHuggingFaceExample is the example of Hugging Face's own trainer test (trainer.rs,
// test_train): with min_frequency 2 it learns "re", "are" and "is", in that order.
func TestTrainHuggingFaceExample(t *testing.T) {
	wc := NewWordCounts()
	for w, c := range map[string]int64{"roses": 1, "are": 2, "red": 1, "voilets": 1, "blue": 1, "BERT": 1,
		"is": 2, "big": 1, "and": 1, "so": 1, "GPT-2": 1} {
		wc.Counts[w] = c
	}
	m, err := Train(wc, Options{VocabSize: 1000, MinFrequency: 2, SpecialTokens: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Merge{{"r", "e", 3}, {"a", "re", 2}, {"i", "s", 2}}
	if !slices.Equal(m.Merges, want) {
		t.Fatalf("merges %v, want %v", m.Merges, want)
	}
	if len(m.Vocab) != 259 || m.Vocab[256] != "re" || m.Vocab[257] != "are" || m.Vocab[258] != "is" {
		t.Fatalf("vocab tail %q (size %d)", m.Vocab[256:], len(m.Vocab))
	}
}

// TestTrainMatchesNaive checks the incremental trainer against naiveTrain: the same merges, so each
// merged pair was the most frequent one (smallest ids among equals) at its step, with its true count.
func TestTrainMatchesNaive(t *testing.T) {
	texts := sharedTexts(t)
	type testCase struct {
		name     string
		wc       *WordCounts
		vocab    int
		minF     int64
		specials []string
	}
	cases := []testCase{
		{"shared-texts", countOf(texts...), 700, 0, nil},
		{"shared-texts-min3", countOf(texts...), 700, 3, nil},
		{"repeats", countOf("aaaa aaaaa abab ababab baba", "aaa bbb aaabbb", "  \n\n   x"), 400, 0, nil},
		// A merge that makes a special token's text reuses its id and adds no token.
		{"special-text", countOf("ab ab abc abc x"), 300, 0, []string{"<|endoftext|>", "ab", "Ġab"}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 30 {
		var parts []string
		for range 40 {
			var b strings.Builder
			for range 1 + rng.IntN(12) {
				b.WriteByte("aabbc  é\n"[rng.IntN(9)])
			}
			parts = append(parts, b.String())
		}
		cases = append(cases, testCase{fmt.Sprintf("random-%d", k), countOf(parts...), 257 + 60, int64(k % 3), nil})
	}
	for _, c := range cases {
		m, err := Train(c.wc, Options{VocabSize: c.vocab, MinFrequency: c.minF, SpecialTokens: c.specials})
		if err != nil {
			t.Fatal(err)
		}
		specials := c.specials
		if specials == nil {
			specials = DefaultSpecialTokens
		}
		vocab, merges := naiveTrain(c.wc, specials, c.vocab, c.minF)
		if !slices.Equal(m.Vocab, vocab) {
			t.Errorf("%s: vocab differs from the naive trainer's (%d vs %d tokens)", c.name, len(m.Vocab), len(vocab))
		}
		if !slices.Equal(m.Merges, merges) {
			for i := range min(len(m.Merges), len(merges)) {
				if m.Merges[i] != merges[i] {
					t.Errorf("%s: merge %d is %v, naive %v", c.name, i, m.Merges[i], merges[i])
					break
				}
			}
			t.Errorf("%s: %d merges, naive %d", c.name, len(m.Merges), len(merges))
		}
		if len(m.Merges) == 0 {
			t.Errorf("%s: no merges", c.name)
		}
	}
}

func TestSpecialTextReusesID(t *testing.T) {
	m, err := Train(countOf("ab ab abc abc x"), Options{VocabSize: 300, SpecialTokens: []string{"<|endoftext|>", "ab"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Merges[0] != (Merge{"a", "b", 4}) {
		t.Fatalf("first merge %v", m.Merges[0])
	}
	if n := len(m.Vocab) - 258; n != len(m.Merges)-1 {
		t.Fatalf("%d merged tokens for %d merges, want one fewer", n, len(m.Merges))
	}
}

func TestTrainOptions(t *testing.T) {
	wc := countOf(sharedTexts(t)...)
	for _, size := range []int{257, 300, 1000} {
		m, err := Train(wc, Options{VocabSize: size})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Vocab) != size || len(m.Merges) != size-257 {
			t.Errorf("vocab %d: got %d tokens, %d merges", size, len(m.Vocab), len(m.Merges))
		}
		if m.Vocab[0] != EndOfText || m.Vocab[1] != "!" || m.Vocab[256] != "Ń" {
			t.Errorf("vocab %d: ids 0, 1, 256 are %q %q %q", size, m.Vocab[0], m.Vocab[1], m.Vocab[256])
		}
	}
	// Counts never rise along the merges, and min_frequency stops training early.
	m, err := Train(wc, Options{VocabSize: 100000, MinFrequency: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i, mg := range m.Merges {
		if mg.Count < 5 || (i > 0 && mg.Count > m.Merges[i-1].Count) {
			t.Fatalf("merge %d %v after %v", i, mg, m.Merges[i-1])
		}
	}
	if len(m.Vocab) >= 100000 || len(m.Merges) < 100 {
		t.Errorf("min frequency 5: %d tokens, %d merges", len(m.Vocab), len(m.Merges))
	}
	// Without a limit, training runs until every word is one token.
	all, err := Train(wc, Options{VocabSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	e := all.encoder()
	for w := range wc.Counts {
		if ids := e.encode(w); len(ids) != 1 {
			t.Fatalf("word %q encodes to %d tokens after training to the end", w, len(ids))
		}
	}
	for _, bad := range []Options{{VocabSize: 256}, {VocabSize: 300, SpecialTokens: []string{"a", "a"}},
		{VocabSize: 300, SpecialTokens: []string{""}}, {VocabSize: 300, MinFrequency: -1}} {
		if _, err := Train(wc, bad); err == nil {
			t.Errorf("Train(%+v) did not fail", bad)
		}
	}
}

// TestTrainDeterministic trains twice with different worker counts and word-table insertion orders
// and expects byte-identical files.
func TestTrainDeterministic(t *testing.T) {
	texts := sharedTexts(t)
	var first []byte
	for k, workers := range []int{1, 3, 8} {
		shuffled := slices.Clone(texts)
		rand.New(rand.NewPCG(uint64(k), 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		m, err := Train(CountTexts(shuffled, workers), Options{VocabSize: 600})
		if err != nil {
			t.Fatal(err)
		}
		js, err := m.TokenizerJSON()
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = js
		} else if string(js) != string(first) {
			t.Fatalf("workers %d: tokenizer.json differs", workers)
		}
	}
}
