package tokenizer

import (
	"math"
	"sync"
	"unicode/utf8"
)

// bpeModel is a byte-pair-encoding model: a vocabulary and ranked merges.
type bpeModel struct {
	vocab        map[string]int32
	merges       map[uint64]bpeMerge // keyed by pairKey(left id, right id)
	unk          int32               // id of the unknown token, -1 if none
	fuseUnk      bool                // consecutive unknown characters become one unknown token
	byteFallback bool                // unknown characters become <0xNN> byte tokens when those exist
	ignoreMerges bool                // a word found whole in the vocabulary is one token
	prefix       string              // continuing_subword_prefix, for every character but the first
	suffix       string              // end_of_word_suffix, for the last character
	byteTokens   [256]int32          // ids of "<0xNN>", -1 where absent
	cache        wordCache

	// For tokenizeBytes (byte-level tokenizers whose words arrive unmapped):
	byteSymbols [256]int32       // id of each byte's byte-level character, -1 where absent
	bytesVocab  map[string]int32 // vocabulary keyed by raw bytes, for ignore_merges
}

// bpeMerge is what a pair of symbols merges into.
type bpeMerge struct {
	rank int32 // position in the merge list: lower merges first
	id   int32 // id of the merged token
}

// maxCachedWord is the longest word (in bytes) kept in the word cache.
const maxCachedWord = 256

// tokenize appends the ids of one pre-tokenized word.
func (m *bpeModel) tokenize(word string, dst []int32) []int32 {
	if word == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(dst, id)
		}
	}
	if ids, ok := m.cache.get(word); ok {
		return append(dst, ids...)
	}
	ids := m.mergeWord(m.initialSymbols(word))
	if len(word) <= maxCachedWord {
		m.cache.put(word, ids)
	}
	return append(dst, ids...)
}

// enableBytes prepares tokenizeBytes. It reports false when the model has a continuing-subword
// prefix or end-of-word suffix, which tokenizeBytes does not handle.
func (m *bpeModel) enableBytes() bool {
	if m.prefix != "" || m.suffix != "" {
		return false
	}
	for b := range m.byteSymbols {
		m.byteSymbols[b] = -1
		if id, ok := m.vocab[string(byteToRune[b])]; ok {
			m.byteSymbols[b] = id
		}
	}
	if m.ignoreMerges {
		m.bytesVocab = make(map[string]int32, len(m.vocab))
		var buf []byte
	tokens:
		for tok, id := range m.vocab {
			buf = buf[:0]
			for _, r := range tok {
				b, ok := runeToByte[r]
				if !ok {
					continue tokens // not reachable from byte-level text
				}
				buf = append(buf, b)
			}
			m.bytesVocab[string(buf)] = id
		}
	}
	return true
}

// tokenizeBytes is tokenize for a word given as raw bytes rather than byte-level characters: the
// result equals tokenize(byteLevelEncode(word)).
func (m *bpeModel) tokenizeBytes(word string, dst []int32) []int32 {
	if word == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.bytesVocab[word]; ok {
			return append(dst, id)
		}
	}
	if ids, ok := m.cache.get(word); ok {
		return append(dst, ids...)
	}
	syms := make([]int32, len(word))
	for i := 0; i < len(word); i++ {
		syms[i] = m.byteSymbols[word[i]]
		if syms[i] < 0 { // a byte missing from the vocabulary: unknown-token rules apply
			syms = m.initialSymbols(byteLevelEncode(word))
			break
		}
	}
	ids := m.mergeWord(syms)
	if len(word) <= maxCachedWord {
		m.cache.put(word, ids)
	}
	return append(dst, ids...)
}

// initialSymbols maps every character of word to a token id: the character itself, else its UTF-8
// bytes as <0xNN> tokens (byte_fallback), else the unknown token (fused if fuse_unk), else nothing.
func (m *bpeModel) initialSymbols(word string) []int32 {
	syms := make([]int32, 0, len(word))
	unkPending := false
	for i := 0; i < len(word); {
		_, size := utf8.DecodeRuneInString(word[i:])
		ch := word[i : i+size]
		if m.prefix != "" && i > 0 {
			ch = m.prefix + ch
		}
		if m.suffix != "" && i+size == len(word) {
			ch += m.suffix
		}
		i += size
		if id, ok := m.vocab[ch]; ok {
			if unkPending {
				syms = append(syms, m.unk)
				unkPending = false
			}
			syms = append(syms, id)
			continue
		}
		if m.byteFallback && m.appendBytes(&syms, ch) {
			continue
		}
		if m.unk >= 0 {
			if unkPending && !m.fuseUnk {
				syms = append(syms, m.unk)
			}
			unkPending = true
		}
	}
	if unkPending {
		syms = append(syms, m.unk)
	}
	return syms
}

// appendBytes appends the <0xNN> tokens of every byte of ch if all of them exist.
func (m *bpeModel) appendBytes(syms *[]int32, ch string) bool {
	for i := 0; i < len(ch); i++ {
		if m.byteTokens[ch[i]] < 0 {
			return false
		}
	}
	for i := 0; i < len(ch); i++ {
		*syms = append(*syms, m.byteTokens[ch[i]])
	}
	return true
}

// heapMergeMin is the symbol count above which mergeWord uses a priority queue instead of rescanning.
const heapMergeMin = 64

// mergeWord applies merges to syms until none applies, always the lowest-ranked pair first and the
// leftmost of equal ranks. It may reuse syms.
func (m *bpeModel) mergeWord(syms []int32) []int32 {
	if len(syms) > heapMergeMin {
		return m.mergeWithHeap(syms)
	}
	return m.mergeByScan(syms)
}

// pairRank returns the merge of a and b, with rank MaxInt32 when there is none.
func (m *bpeModel) pairRank(a, b int32) bpeMerge {
	if mg, ok := m.merges[pairKey(rune(a), rune(b))]; ok {
		return mg
	}
	return bpeMerge{rank: math.MaxInt32}
}

// mergeByScan keeps the merge of every adjacent pair and rescans for the best one: quadratic, but
// fastest for the short words that dominate byte-level text.
func (m *bpeModel) mergeByScan(syms []int32) []int32 {
	if len(syms) < 2 {
		return syms
	}
	pairs := make([]bpeMerge, len(syms)-1)
	for i := range pairs {
		pairs[i] = m.pairRank(syms[i], syms[i+1])
	}
	for {
		best := -1
		bestRank := int32(math.MaxInt32)
		for i, p := range pairs {
			if p.rank < bestRank {
				best, bestRank = i, p.rank
			}
		}
		if best < 0 {
			return syms
		}
		syms[best] = pairs[best].id
		syms = append(syms[:best+1], syms[best+2:]...)
		pairs = append(pairs[:best], pairs[best+1:]...)
		if best > 0 {
			pairs[best-1] = m.pairRank(syms[best-1], syms[best])
		}
		if best < len(pairs) {
			pairs[best] = m.pairRank(syms[best], syms[best+1])
		}
	}
}

// heapSymbol is a symbol in the doubly linked list that mergeWithHeap works on.
type heapSymbol struct {
	id         int32
	prev, next int32 // neighbour indices, -1 at the ends
	gone       bool  // merged into its left neighbour
}

// pendingMerge is a candidate merge of the symbol at pos with its right neighbour.
type pendingMerge struct {
	rank, pos, id int32
}

// mergeQueue is a binary min-heap of pending merges ordered by (rank, pos). It and the BPE trainer's
// queue are written out for their element types: one generic heap over a Before method was tried
// (not kept) and was slower on BenchmarkEncode/llama2 and bpetrain's BenchmarkTrain, because calls
// through the generic dictionary are not inlined.
type mergeQueue []pendingMerge

func (a pendingMerge) before(b pendingMerge) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

func (q *mergeQueue) init() {
	for i := len(*q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

func (q *mergeQueue) push(m pendingMerge) {
	*q = append(*q, m)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *mergeQueue) pop() pendingMerge {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	*q = h[:last]
	q.down(0)
	return top
}

func (q *mergeQueue) down(i int) {
	h := *q
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].before(h[l]) {
			m = r
		}
		if !h[m].before(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// mergeWithHeap is mergeWord in O(n log n) for long words. A queued merge is skipped when its symbols
// have changed since it was queued.
func (m *bpeModel) mergeWithHeap(ids []int32) []int32 {
	if len(ids) < 2 {
		return ids
	}
	syms := make([]heapSymbol, len(ids))
	q := make(mergeQueue, 0, len(ids))
	for i, id := range ids {
		syms[i] = heapSymbol{id: id, prev: int32(i) - 1, next: int32(i) + 1}
		if i > 0 {
			if mg := m.pairRank(ids[i-1], id); mg.rank != math.MaxInt32 {
				q = append(q, pendingMerge{mg.rank, int32(i - 1), mg.id})
			}
		}
	}
	syms[len(syms)-1].next = -1
	q.init()
	for len(q) > 0 {
		top := q.pop()
		left := &syms[top.pos]
		if left.gone || left.next < 0 {
			continue
		}
		right := &syms[left.next]
		if mg := m.pairRank(left.id, right.id); mg.rank == math.MaxInt32 || mg.id != top.id {
			continue
		}
		left.id = top.id
		right.gone = true
		left.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if left.prev >= 0 {
			if mg := m.pairRank(syms[left.prev].id, left.id); mg.rank != math.MaxInt32 {
				q.push(pendingMerge{mg.rank, left.prev, mg.id})
			}
		}
		if left.next >= 0 {
			if mg := m.pairRank(left.id, syms[left.next].id); mg.rank != math.MaxInt32 {
				q.push(pendingMerge{mg.rank, top.pos, mg.id})
			}
		}
	}
	out := ids[:0]
	for i := int32(0); i >= 0; i = syms[i].next {
		out = append(out, syms[i].id)
	}
	return out
}

// wordCache remembers the ids of recently encoded words. It is safe for concurrent use and is
// emptied when it reaches its capacity.
type wordCache struct {
	mu    sync.RWMutex
	words map[string][]int32
}

// wordCacheCap is the number of words the cache holds before it is emptied.
const wordCacheCap = 1 << 16

func (c *wordCache) get(word string) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.words[word]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(word string, ids []int32) {
	stored := append([]int32(nil), ids...)
	c.mu.Lock()
	if c.words == nil || len(c.words) >= wordCacheCap {
		c.words = make(map[string][]int32, 1024)
	}
	c.words[word] = stored
	c.mu.Unlock()
}
