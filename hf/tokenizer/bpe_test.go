package tokenizer

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func loadTiny(t *testing.T, name string) (*Tokenizer, []byte) {
	t.Helper()
	path := filepath.Join(testdataDir(t), "tiny", name+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(data, path)
	if err != nil {
		t.Fatal(err)
	}
	return tok, data
}

// randomSnippets returns random substrings of the test texts (bytes, so sometimes cut inside a
// character) and random byte strings.
func randomSnippets(t *testing.T, n int) []string {
	joined := strings.Join(loadTexts(t), "\n")
	rng := rand.New(rand.NewPCG(3, 5))
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i%4 == 3 {
			b := make([]byte, rng.IntN(40))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			out = append(out, string(b))
			continue
		}
		start := rng.IntN(len(joined))
		end := min(len(joined), start+1+rng.IntN(400))
		out = append(out, joined[start:end])
	}
	return out
}

// TestMergeStrategiesAgree checks that the quadratic scan and the priority queue produce the same
// merges, and that the merged tokens spell the word.
func TestMergeStrategiesAgree(t *testing.T) {
	for _, name := range []string{"tiny_bl", "tiny_sp"} {
		tok, _ := loadTiny(t, name)
		m := tok.model
		for _, s := range randomSnippets(t, 1500) {
			word := s
			if name == "tiny_bl" {
				word = byteLevelEncode(s)
			}
			syms := m.initialSymbols(word)
			scan := m.mergeByScan(slices.Clone(syms))
			queue := m.mergeWithHeap(slices.Clone(syms))
			if !slices.Equal(scan, queue) {
				t.Fatalf("%s: word %+q: scan %v, queue %v", name, word, scan, queue)
			}
			var spelled strings.Builder
			for _, id := range scan {
				spelled.WriteString(tok.idToToken[id])
			}
			if name == "tiny_bl" && spelled.String() != word {
				t.Fatalf("%s: merged tokens spell %+q, want %+q", name, spelled.String(), word)
			}
		}
	}
}

// TestBytesPathMatchesMappedPath checks that leaving the byte-level mapping to the model gives the
// same ids as mapping in the pre-tokenizer.
func TestBytesPathMatchesMappedPath(t *testing.T) {
	fast, data := loadTiny(t, "tiny_bl")
	if !fast.rawBytes {
		t.Fatal("tiny_bl should use the raw-bytes path")
	}
	slow, err := Parse(data, "tiny_bl")
	if err != nil {
		t.Fatal(err)
	}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	slow.pre, _ = parsePreTokenizer(f.PreTokenizer, "pre_tokenizer")
	slow.rawBytes = false
	slow.model.ignoreMerges = true // exercise the bytes vocabulary too
	fast.model.ignoreMerges = true
	fast.model.enableBytes()
	for _, s := range append(randomSnippets(t, 1000), loadTexts(t)...) {
		if got, want := fast.Encode(s, false), slow.Encode(s, false); !slices.Equal(got, want) {
			t.Fatalf("Encode(%+q): bytes path %v, mapped path %v", s, got, want)
		}
	}
}

// TestEncodeConcurrent checks that concurrent encodes (sharing the word cache) agree with serial ones.
func TestEncodeConcurrent(t *testing.T) {
	tok, _ := loadTiny(t, "tiny_bl")
	texts := randomSnippets(t, 400)
	want := make([][]int32, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s, false)
	}
	fresh, _ := loadTiny(t, "tiny_bl")
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range texts {
				k := (i + w*97) % len(texts)
				if got := fresh.Encode(texts[k], false); !slices.Equal(got, want[k]) {
					errs <- texts[k]
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%+q) differs from serial", s)
	}
}
