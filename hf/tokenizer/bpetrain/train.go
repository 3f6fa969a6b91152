package bpetrain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Options configure Train.
type Options struct {
	// VocabSize is the size of the vocabulary to reach, special tokens and the 256 byte tokens
	// included. Training stops earlier when no pair is frequent enough.
	VocabSize int
	// MinFrequency is the least number of occurrences a pair needs to be merged (Hugging Face's
	// min_frequency; 0 and 1 both merge any pair that occurs).
	MinFrequency int64
	// SpecialTokens take the first ids, in this order (DefaultSpecialTokens if nil).
	SpecialTokens []string
}

// EndOfText is the special token that marks document boundaries; it serves as BOS, EOS and, unless
// a separate pad token is added, padding.
const EndOfText = "<|endoftext|>"

// PadToken is the optional separate padding token.
const PadToken = "<|pad|>"

// DefaultSpecialTokens are the special tokens used when Options.SpecialTokens is nil.
var DefaultSpecialTokens = []string{EndOfText}

// Merge is one learned merge.
type Merge struct {
	// Left and Right are the merged tokens, in the byte-level alphabet.
	Left, Right string
	// Count is how often the pair occurred when it was merged.
	Count int64
}

// Model is a trained byte-level BPE tokenizer.
type Model struct {
	// Vocab lists the tokens by id: the special tokens, the 256 byte-level characters in code-point
	// order, then the merged tokens in the order they were made (byte-level alphabet).
	Vocab []string
	// Merges are the merges by rank (each pair once).
	Merges []Merge
	// SpecialTokens are the special tokens; their ids are 0, 1, ...
	SpecialTokens []string
}

// pairKey packs a pair of ids; ordering keys orders pairs by (left, right).
func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func splitKey(k uint64) (int32, int32) { return int32(k >> 32), int32(uint32(k)) }

// Train learns merges from word counts exactly as Hugging Face's BpeTrainer does with a ByteLevel
// pre-tokenizer and the byte-level initial alphabet (see the package documentation for the rules).
func Train(words *WordCounts, opt Options) (*Model, error) {
	specials := opt.SpecialTokens
	if specials == nil {
		specials = DefaultSpecialTokens
	}
	seen := map[string]bool{}
	for _, s := range specials {
		if s == "" {
			return nil, errors.New("bpetrain: empty special token")
		}
		if seen[s] {
			return nil, fmt.Errorf("bpetrain: special token %q given twice", s)
		}
		seen[s] = true
	}
	if minSize := 256 + len(specials); opt.VocabSize < minSize {
		return nil, fmt.Errorf("bpetrain: vocabulary size %d is smaller than the 256 byte tokens plus %d special tokens", opt.VocabSize, len(specials))
	}
	if opt.MinFrequency < 0 {
		return nil, fmt.Errorf("bpetrain: negative minimum frequency %d", opt.MinFrequency)
	}
	if words == nil {
		words = NewWordCounts()
	}
	t := newTrainer(words, specials)
	t.run(opt.VocabSize, opt.MinFrequency)
	return t.model(specials), nil
}

// trainer holds the state of the merge loop.
type trainer struct {
	vocab  []string         // id → token (byte-level alphabet)
	ids    map[string]int32 // token → id
	words  [][]int32        // each distinct word as its current symbols
	counts []int64          // occurrences of each word
	pairs  map[uint64]int64 // occurrences of each adjacent pair, summed over words
	queue  mergeQueue
	seq    int64
	steps  []step
	// scratch
	changes []pairChange
	added   []wordPair
}

// step is one iteration of the merge loop.
type step struct {
	a, b  int32
	count int64
}

// pairChange is a change of a pair's count inside one word.
type pairChange struct {
	key   uint64
	delta int64
}

// wordPair records that a pair was formed in a word.
type wordPair struct {
	key  uint64
	word int32
}

func newTrainer(wc *WordCounts, specials []string) *trainer {
	t := &trainer{ids: map[string]int32{}, pairs: map[uint64]int64{}}
	for _, s := range specials {
		t.addToken(s)
	}
	// The alphabet in code-point order, as Hugging Face sorts it.
	alphabet := byteRunes
	slices.Sort(alphabet[:])
	for _, r := range alphabet {
		t.addToken(string(r))
	}
	var byteID [256]int32
	for b, r := range byteRunes {
		byteID[b] = t.ids[string(r)]
	}
	// Words in byte order, so that everything below is deterministic.
	keys := make([]string, 0, len(wc.Counts))
	for w := range wc.Counts {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	t.words = make([][]int32, len(keys))
	t.counts = make([]int64, len(keys))
	total := 0
	for _, w := range keys {
		total += len(w)
	}
	store := make([]int32, total)
	where := map[uint64][]int32{}
	for i, w := range keys {
		syms := store[:len(w):len(w)]
		store = store[len(w):]
		for j := 0; j < len(w); j++ {
			syms[j] = byteID[w[j]]
		}
		t.words[i], t.counts[i] = syms, wc.Counts[w]
		for j := 0; j+1 < len(syms); j++ {
			k := pairKey(syms[j], syms[j+1])
			t.pairs[k] += t.counts[i]
			if p := where[k]; len(p) == 0 || p[len(p)-1] != int32(i) {
				where[k] = append(p, int32(i))
			}
		}
	}
	initial := make([]wordPair, 0, len(where))
	for k := range where {
		initial = append(initial, wordPair{key: k})
	}
	slices.SortFunc(initial, func(x, y wordPair) int { return cmp.Compare(x.key, y.key) })
	t.queue = make(mergeQueue, 0, len(initial))
	for _, p := range initial {
		if c := t.pairs[p.key]; c > 0 {
			t.queue = append(t.queue, &queued{count: c, key: p.key, pos: where[p.key], seq: t.nextSeq()})
		}
	}
	t.queue.init()
	return t
}

func (t *trainer) nextSeq() int64 { t.seq++; return t.seq }

// addToken returns the id of tok, adding it to the vocabulary if it is new.
func (t *trainer) addToken(tok string) int32 {
	if id, ok := t.ids[tok]; ok {
		return id
	}
	id := int32(len(t.vocab))
	t.vocab = append(t.vocab, tok)
	t.ids[tok] = id
	return id
}

// run is the merge loop: take the most frequent pair (the smallest (left id, right id) among equals),
// merge it in the words listed with it, update the counts of the pairs around each merge, queue the
// pairs that were formed, and repeat until the vocabulary is full or no pair is frequent enough.
func (t *trainer) run(vocabSize int, minFrequency int64) {
	for len(t.vocab) < vocabSize && len(t.queue) > 0 {
		top := t.queue.pop()
		if cur := t.pairs[top.key]; top.count != cur {
			// Counts only fall while a pair waits, except through merges that remake an existing
			// token; either way the entry goes back with its true count.
			top.count = cur
			t.queue.push(top)
			continue
		}
		if top.count < 1 || minFrequency > top.count {
			break
		}
		a, b := splitKey(top.key)
		r := t.addToken(t.vocab[a] + t.vocab[b])
		t.steps = append(t.steps, step{a, b, top.count})
		t.added = t.added[:0]
		for _, wi := range top.pos {
			t.changes = t.changes[:0]
			t.words[wi] = t.mergeWord(t.words[wi], a, b, r)
			c := t.counts[wi]
			for _, ch := range t.changes {
				t.pairs[ch.key] += ch.delta * c
				if ch.delta > 0 {
					t.added = append(t.added, wordPair{ch.key, wi})
				}
			}
		}
		t.queueFormed()
	}
}

// queueFormed queues every pair formed by the last merge with the words it was formed in, in key
// order (words ascending within a key).
func (t *trainer) queueFormed() {
	slices.SortStableFunc(t.added, func(x, y wordPair) int { return cmp.Compare(x.key, y.key) })
	for i := 0; i < len(t.added); {
		k := t.added[i].key
		var pos []int32
		for ; i < len(t.added) && t.added[i].key == k; i++ {
			if w := t.added[i].word; len(pos) == 0 || pos[len(pos)-1] != w {
				pos = append(pos, w)
			}
		}
		if c := t.pairs[k]; c > 0 {
			t.queue.push(&queued{count: c, key: k, pos: pos, seq: t.nextSeq()})
		}
	}
}

// mergeWord replaces every occurrence of (a, b) in syms, left to right, by r, in place, and records
// in t.changes the pairs it breaks (-1) and forms (+1) on either side. As in Hugging Face's
// Word::merge, the merged pair's own count is left alone.
func (t *trainer) mergeWord(syms []int32, a, b, r int32) []int32 {
	n, k := len(syms), 0
	for j := 0; j < n; {
		if j+1 < n && syms[j] == a && syms[j+1] == b {
			if k > 0 {
				prev := syms[k-1]
				t.changes = append(t.changes, pairChange{pairKey(prev, a), -1}, pairChange{pairKey(prev, r), 1})
			}
			if j+2 < n {
				nxt := syms[j+2]
				t.changes = append(t.changes, pairChange{pairKey(b, nxt), -1}, pairChange{pairKey(r, nxt), 1})
			}
			syms[k] = r
			k, j = k+1, j+2
			continue
		}
		syms[k] = syms[j]
		k, j = k+1, j+1
	}
	return syms[:k]
}

// model turns the merge steps into a Model. A pair merged more than once (possible when a merge
// remakes an existing token and the pair forms again) keeps its last rank, as Hugging Face's merge
// map does.
func (t *trainer) model(specials []string) *Model {
	last := make(map[uint64]int, len(t.steps))
	for i, s := range t.steps {
		last[pairKey(s.a, s.b)] = i
	}
	m := &Model{Vocab: t.vocab, SpecialTokens: slices.Clone(specials)}
	for i, s := range t.steps {
		if last[pairKey(s.a, s.b)] == i {
			m.Merges = append(m.Merges, Merge{Left: t.vocab[s.a], Right: t.vocab[s.b], Count: s.count})
		}
	}
	return m
}

// queued is a pair waiting in the merge queue with the count it had when queued and the words it
// was formed in (ascending).
type queued struct {
	count int64
	key   uint64
	pos   []int32
	seq   int64 // queue order among equal (count, key): entries of one pair queued at different steps
}

// before orders the queue: higher count first, then smaller (left id, right id), then older.
func (q *queued) before(o *queued) bool {
	if q.count != o.count {
		return q.count > o.count
	}
	if q.key != o.key {
		return q.key < o.key
	}
	return q.seq < o.seq
}

// mergeQueue is a binary heap of queued pairs, written out for its element type like the
// tokenizer's (hf/tokenizer's mergeQueue says why).
type mergeQueue []*queued

func (h mergeQueue) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeQueue) push(q *queued) {
	*h = append(*h, q)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeQueue) pop() *queued {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	*h = s[:last]
	h.down(0)
	return top
}

func (h mergeQueue) down(i int) {
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

// TokenID returns the id of a token (byte-level alphabet, or a special token's content).
func (m *Model) TokenID(tok string) (int32, bool) {
	i := slices.Index(m.Vocab, tok)
	return int32(i), i >= 0
}

// byteToken returns the byte-level token of byte b.
func byteToken(b byte) string { return string(byteRunes[b]) }
