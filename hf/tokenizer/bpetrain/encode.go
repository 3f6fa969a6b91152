package bpetrain

import (
	"math"
	"sync"
)

// wordEncoder applies a model's merges to words, lowest rank first and leftmost among equals, as
// a BPE tokenizer encodes. It exists to measure compression on the training words; encoding text
// for use goes through hf/tokenizer and the written tokenizer.json.
type wordEncoder struct {
	byteID [256]int32
	merges map[uint64]rankedMerge
}

type rankedMerge struct{ rank, id int32 }

func (m *Model) encoder() *wordEncoder {
	e := &wordEncoder{merges: make(map[uint64]rankedMerge, len(m.Merges))}
	ids := make(map[string]int32, len(m.Vocab))
	for i, tok := range m.Vocab {
		if _, ok := ids[tok]; !ok {
			ids[tok] = int32(i)
		}
	}
	for b := range 256 {
		e.byteID[b] = ids[byteToken(byte(b))]
	}
	for r, mg := range m.Merges {
		a, b := ids[mg.Left], ids[mg.Right]
		e.merges[pairKey(a, b)] = rankedMerge{int32(r), ids[mg.Left+mg.Right]}
	}
	return e
}

// EncodeWord returns the ids of one pre-tokenized word (raw bytes).
func (m *Model) EncodeWord(word string) []int32 { return m.encoder().encode(word) }

// encode merges the bytes of word. Symbols form a linked list; a heap of candidate merges ordered
// by (rank, position) gives O(n log n) for long words.
func (e *wordEncoder) encode(word string) []int32 {
	n := len(word)
	if n == 0 {
		return nil
	}
	id := make([]int32, n)
	nxt := make([]int32, n)
	prv := make([]int32, n)
	for i := range n {
		id[i], nxt[i], prv[i] = e.byteID[word[i]], int32(i+1), int32(i-1)
	}
	nxt[n-1] = -1
	var h candHeap
	for i := 0; i+1 < n; i++ {
		if mg, ok := e.merges[pairKey(id[i], id[i+1])]; ok {
			h = append(h, cand{mg.rank, int32(i), mg.id})
		}
	}
	h.init()
	gone := make([]bool, n)
	for len(h) > 0 {
		c := h.pop()
		l := c.pos
		if gone[l] || nxt[l] < 0 {
			continue
		}
		r := nxt[l]
		if mg, ok := e.merges[pairKey(id[l], id[r])]; !ok || mg.rank != c.rank {
			continue // stale: a symbol changed since this candidate was queued
		}
		id[l], gone[r], nxt[l] = c.id, true, nxt[r]
		if nxt[r] >= 0 {
			prv[nxt[r]] = l
		}
		if p := prv[l]; p >= 0 {
			if mg, ok := e.merges[pairKey(id[p], id[l])]; ok {
				h.push(cand{mg.rank, p, mg.id})
			}
		}
		if q := nxt[l]; q >= 0 {
			if mg, ok := e.merges[pairKey(id[l], id[q])]; ok {
				h.push(cand{mg.rank, l, mg.id})
			}
		}
	}
	out := id[:0]
	for i := int32(0); i >= 0; i = nxt[i] {
		out = append(out, id[i])
	}
	return out
}

// cand is a possible merge of the symbol at pos with its right neighbour.
type cand struct{ rank, pos, id int32 }

type candHeap []cand

func (a cand) less(b cand) bool { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos) }

func (h candHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *candHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candHeap) pop() cand {
	s := *h
	top := s[0]
	s[0] = s[len(s)-1]
	*h = s[:len(s)-1]
	h.down(0)
	return top
}

func (h candHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// CountTokens returns how many tokens the counted texts encode to (special-token markers inside
// the texts counted as plain text), using the given number of goroutines (0: GOMAXPROCS).
func (m *Model) CountTokens(words *WordCounts, workers int) int64 {
	e := m.encoder()
	n := workerCount(workers)
	ch := make(chan []string, n)
	var total int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var sum int64
			for batch := range ch {
				for _, w := range batch {
					sum += int64(len(e.encode(w))) * words.Counts[w]
				}
			}
			mu.Lock()
			total += sum
			mu.Unlock()
		})
	}
	batch := make([]string, 0, 4096)
	for w := range words.Counts {
		batch = append(batch, w)
		if len(batch) == cap(batch) {
			ch <- batch
			batch = make([]string, 0, 4096)
		}
	}
	ch <- batch
	close(ch)
	wg.Wait()
	return total
}

// CharsPerToken is the compression of the counted texts: characters per token (NaN without tokens).
func (m *Model) CharsPerToken(words *WordCounts, workers int) float64 {
	tokens := m.CountTokens(words, workers)
	if tokens == 0 {
		return math.NaN()
	}
	return float64(words.Chars) / float64(tokens)
}
