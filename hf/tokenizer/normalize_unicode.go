package tokenizer

//go:generate sh -c "python3.12 gen_unicode_tables.py > unicode_tables.go"

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Unicode normalization forms (UAX #15) without golang.org/x/text: the tables in unicode_tables.go are
// generated from Python's unicodedata; Hangul syllables are decomposed and composed algorithmically.
//
// Input that is not valid UTF-8 keeps its invalid bytes as they are: each acts as a boundary that no
// composition crosses, so byte-level tokenizers still round-trip arbitrary bytes.

// unicodeForm selects one of the four normalization forms.
type unicodeForm int

const (
	formNFC unicodeForm = iota
	formNFD
	formNFKC
	formNFKD
)

func (f unicodeForm) compat() bool    { return f == formNFKC || f == formNFKD }
func (f unicodeForm) composing() bool { return f == formNFC || f == formNFKC }

// normTables holds the parsed Unicode data.
type normTables struct {
	canon  map[rune][]rune
	compat map[rune][]rune
	ccc    []cccRange
	comp   map[uint64]rune
	// Characters that are not inert (see inert), as a bitmap for the BMP and a set above it.
	activeBMP    [0x10000 / 64]uint64
	activeAstral map[rune]bool
}

// cccRange gives code points lo..hi the combining class class.
type cccRange struct {
	lo, hi rune
	class  uint8
}

var (
	tablesOnce sync.Once
	tables     *normTables
)

// unicodeData parses the generated tables on first use.
func unicodeData() *normTables {
	tablesOnce.Do(func() {
		t := &normTables{
			canon:  parseDecomp(canonicalDecomp),
			compat: parseDecomp(compatDecomp),
			comp:   map[uint64]rune{},
		}
		for _, f := range tableLines(combiningClass) {
			c, _ := strconv.ParseUint(f[2], 10, 8)
			t.ccc = append(t.ccc, cccRange{hexRune(f[0]), hexRune(f[1]), uint8(c)})
		}
		t.activeAstral = map[rune]bool{}
		for _, f := range tableLines(primaryComposite) {
			a, b := hexRune(f[0]), hexRune(f[1])
			t.comp[pairKey(a, b)] = hexRune(f[2])
			t.markActive(b)
		}
		for r := range t.canon {
			t.markActive(r)
		}
		for r := range t.compat {
			t.markActive(r)
		}
		for _, c := range t.ccc {
			for r := c.lo; r <= c.hi; r++ {
				t.markActive(r)
			}
		}
		for r := rune(hangulSBase); r < hangulSBase+hangulSCount; r++ {
			t.markActive(r)
		}
		for r := rune(hangulVBase); r < hangulTBase+hangulTCount; r++ { // vowel and trailing jamo
			t.markActive(r)
		}
		tables = t
	})
	return tables
}

func tableLines(table string) [][]string {
	var out [][]string
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func parseDecomp(table string) map[rune][]rune {
	m := map[rune][]rune{}
	for _, f := range tableLines(table) {
		d := make([]rune, len(f)-1)
		for i, h := range f[1:] {
			d[i] = hexRune(h)
		}
		m[hexRune(f[0])] = d
	}
	return m
}

// hexRune parses a hex code point of the generated tables (which are known to be well formed).
func hexRune(h string) rune {
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		panic("tokenizer: corrupt generated unicode table: " + h)
	}
	return rune(v)
}

func pairKey(a, b rune) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (t *normTables) markActive(r rune) {
	if r < 0x10000 {
		t.activeBMP[r/64] |= 1 << (r % 64)
	} else {
		t.activeAstral[r] = true
	}
}

// inert reports whether every normalization form leaves r unchanged and nothing before r can
// combine with it: r has no decomposition, combining class 0, and is never the second character of
// a composition. Text can be normalized piecewise between inert characters.
func (t *normTables) inert(r rune) bool {
	if r < 0x10000 {
		return t.activeBMP[r/64]&(1<<(r%64)) == 0
	}
	return !t.activeAstral[r]
}

// combining returns the canonical combining class of r.
func (t *normTables) combining(r rune) uint8 {
	if r < 0x300 {
		return 0
	}
	i := sort.Search(len(t.ccc), func(i int) bool { return t.ccc[i].hi >= r })
	if i < len(t.ccc) && t.ccc[i].lo <= r {
		return t.ccc[i].class
	}
	return 0
}

// Hangul syllable arithmetic (Unicode chapter 3.12).
const (
	hangulSBase  = 0xAC00
	hangulLBase  = 0x1100
	hangulVBase  = 0x1161
	hangulTBase  = 0x11A7
	hangulLCount = 19
	hangulVCount = 21
	hangulTCount = 28
	hangulNCount = hangulVCount * hangulTCount
	hangulSCount = hangulLCount * hangulNCount
)

// normalizeUnicode returns s in the given normalization form. Runs of characters between inert
// characters are normalized on their own; the rest of s is copied unchanged.
func normalizeUnicode(s string, form unicodeForm) string {
	if isNormalizationInert(s) {
		return s
	}
	t := unicodeData()
	var b strings.Builder
	written := 0  // s[:written] is in b (or unchanged, while b is empty)
	segStart := 0 // start of the current segment, which begins at an inert character or a boundary
	dirty := false
	flush := func(end int) {
		if b.Len() == 0 {
			b.Grow(len(s) + len(s)/8)
		}
		b.WriteString(s[written:segStart])
		b.WriteString(t.normalizeValid(s[segStart:end], form))
		written = end
		dirty = false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		invalid := r == utf8.RuneError && size == 1
		if invalid || t.inert(r) {
			if dirty {
				flush(i)
			}
			segStart = i
			if invalid { // an invalid byte is copied through and separates segments
				segStart = i + 1
			}
		} else {
			dirty = true
		}
		i += size
	}
	if dirty {
		flush(len(s))
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

// isNormalizationInert reports whether every rune of s is below U+00A0 (plain ASCII and C1 controls),
// which all four forms leave unchanged.
func isNormalizationInert(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// normalizeValid normalizes valid UTF-8 text: full decomposition, canonical ordering, then
// (for NFC and NFKC) canonical composition.
func (t *normTables) normalizeValid(s string, form unicodeForm) string {
	if s == "" {
		return s
	}
	runes := make([]rune, 0, len(s))
	for _, r := range s {
		runes = t.decompose(runes, r, form.compat())
	}
	t.canonicalOrder(runes)
	if form.composing() {
		runes = t.compose(runes)
	}
	return string(runes)
}

// decompose appends the full decomposition of r.
func (t *normTables) decompose(dst []rune, r rune, compat bool) []rune {
	if r >= hangulSBase && r < hangulSBase+hangulSCount {
		si := r - hangulSBase
		dst = append(dst, hangulLBase+si/hangulNCount, hangulVBase+(si%hangulNCount)/hangulTCount)
		if ti := si % hangulTCount; ti != 0 {
			dst = append(dst, hangulTBase+ti)
		}
		return dst
	}
	if compat {
		if d, ok := t.compat[r]; ok {
			return append(dst, d...)
		}
	}
	if d, ok := t.canon[r]; ok {
		return append(dst, d...)
	}
	return append(dst, r)
}

// canonicalOrder stably sorts every run of non-starters by combining class.
func (t *normTables) canonicalOrder(runes []rune) {
	for i := 0; i < len(runes); {
		if t.combining(runes[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(runes) && t.combining(runes[j]) != 0 {
			j++
		}
		run := runes[i:j]
		sort.SliceStable(run, func(a, b int) bool { return t.combining(run[a]) < t.combining(run[b]) })
		i = j
	}
}

// compose applies the canonical composition algorithm in place and returns the shortened slice.
func (t *normTables) compose(runes []rune) []rune {
	if len(runes) == 0 {
		return runes
	}
	out := runes[:0]
	starter := -1 // index in out of the last starter, -1 if none
	var lastClass uint8
	for _, r := range runes {
		class := t.combining(r)
		if starter >= 0 {
			s := out[starter]
			adjacent := starter == len(out)-1
			if adjacent || (lastClass != 0 && lastClass < class) {
				if c, ok := t.composePair(s, r, adjacent); ok {
					out[starter] = c
					continue
				}
			}
		}
		if class == 0 {
			starter = len(out)
		}
		lastClass = class
		out = append(out, r)
	}
	return out
}

// composePair returns the primary composite of a followed by b. Hangul jamo compose only when adjacent.
func (t *normTables) composePair(a, b rune, adjacent bool) (rune, bool) {
	if adjacent {
		if a >= hangulLBase && a < hangulLBase+hangulLCount && b >= hangulVBase && b < hangulVBase+hangulVCount {
			return hangulSBase + ((a-hangulLBase)*hangulVCount+(b-hangulVBase))*hangulTCount, true
		}
		if a >= hangulSBase && a < hangulSBase+hangulSCount && (a-hangulSBase)%hangulTCount == 0 &&
			b > hangulTBase && b < hangulTBase+hangulTCount {
			return a + (b - hangulTBase), true
		}
	}
	c, ok := t.comp[pairKey(a, b)]
	return c, ok
}
