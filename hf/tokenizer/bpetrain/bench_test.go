package bpetrain

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// benchTexts makes about size bytes of English-like text: sentences of words drawn with Zipf
// frequencies from a lexicon of 40,000 made-up words, with punctuation, numbers and paragraphs, so
// the word table and the pair statistics resemble real text.
func benchTexts(size int) []string {
	rng := rand.New(rand.NewPCG(7, 11))
	syllables := strings.Fields("ka to ri mu se la ne po chi an el or in th er st qu ou ea ing ed ly tion pre con ab ex")
	lexicon := make([]string, 40000)
	for i := range lexicon {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		lexicon[i] = b.String()
	}
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(lexicon)-1))
	var texts []string
	total := 0
	for total < size {
		var b strings.Builder
		for s := range 3 + rng.IntN(8) {
			for w := range 4 + rng.IntN(14) {
				word := lexicon[zipf.Uint64()]
				if w == 0 {
					word = strings.ToUpper(word[:1]) + word[1:]
				} else {
					b.WriteByte(' ')
				}
				b.WriteString(word)
				if rng.IntN(12) == 0 {
					b.WriteString(", " + strconv.Itoa(rng.IntN(2000)))
				}
			}
			b.WriteString(".!?"[s%3 : s%3+1])
			if rng.IntN(5) == 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		}
		texts = append(texts, b.String())
		total += b.Len()
	}
	return texts
}

// BenchmarkCount measures pre-tokenizing and counting 4 MB (MB/s of text).
func BenchmarkCount(b *testing.B) {
	texts := benchTexts(4 << 20)
	n := 0
	for _, t := range texts {
		n += len(t)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		CountTexts(texts, 0)
	}
}

// BenchmarkTrain measures the merge loop to a vocabulary of 8192 on the words of 4 MB of text.
func BenchmarkTrain(b *testing.B) {
	wc := CountTexts(benchTexts(4<<20), 0)
	b.ResetTimer()
	for b.Loop() {
		m, err := Train(wc, Options{VocabSize: 8192, MinFrequency: 2})
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Vocab) != 8192 {
			b.Fatalf("vocabulary %d", len(m.Vocab))
		}
	}
}
