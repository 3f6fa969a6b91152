package datasets

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Chunk sizes of the corpora, in characters (runes): units (paragraphs, verses, sentences) are
// merged into chunks of about chunkTarget, and no chunk is longer than chunkMax unless one word is.
const (
	chunkMin    = 200
	chunkTarget = 1000
	chunkMax    = 2000
)

// normSpace collapses every run of white space (and drops control characters) to one space and
// trims the ends.
func normSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == utf8.RuneError || unicode.IsControl(r) || r == '\u200b' || r == '\ufeff':
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// normLines normalises each line with normSpace, keeps single line breaks, turns runs of blank
// lines into one and trims blank lines at the ends: for texts whose line breaks matter (quotes,
// verse).
func normLines(s string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(s, "\n") {
		line = normSpace(line)
		if line == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// runes is the length of s in characters.
func runes(s string) int { return utf8.RuneCountInString(s) }

// sentences splits normalised prose after '.', '!' or '?' (and closing quotes or brackets) that
// are followed by a space and an upper-case letter, a digit or an opening quote.
func sentences(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	pos := 0 // byte offset of rs[i]
	for i := 0; i < len(rs); i++ {
		size := utf8.RuneLen(rs[i])
		if rs[i] == '.' || rs[i] == '!' || rs[i] == '?' {
			j := i + 1
			end := pos + size
			for j < len(rs) && strings.ContainsRune(`"')]”’`, rs[j]) {
				end += utf8.RuneLen(rs[j])
				j++
			}
			if j+1 < len(rs) && rs[j] == ' ' && (unicode.IsUpper(rs[j+1]) || unicode.IsDigit(rs[j+1]) || strings.ContainsRune(`"'“‘(`, rs[j+1])) {
				out = append(out, s[start:end])
				start = end + 1
				pos = end + 1
				i = j
				continue
			}
		}
		pos += size
	}
	if start < len(s) {
		if rest := strings.TrimSpace(s[start:]); rest != "" {
			out = append(out, rest)
		}
	}
	return out
}

// splitLong cuts a unit longer than max characters at sentence ends, then at spaces, into pieces
// of at most max characters (a single word longer than max stays whole).
func splitLong(u string, max int) []string {
	if runes(u) <= max {
		return []string{u}
	}
	var out []string
	for _, s := range sentences(u) {
		if runes(s) <= max {
			out = append(out, s)
			continue
		}
		for s != "" {
			piece := truncate(s, max)
			if piece == "" { // one word longer than max
				piece, _, _ = strings.Cut(s, " ")
			}
			out = append(out, piece)
			s = strings.TrimSpace(s[len(piece):])
		}
	}
	return mergeUnits(out, " ", max, max)
}

// mergeUnits joins consecutive units with sep into chunks: a chunk is closed before a unit that
// would take it past target, once it has at least chunkMin characters, and never grows past max.
func mergeUnits(units []string, sep string, target, max int) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, u := range units {
		m := runes(u)
		if n > 0 && (n+runes(sep)+m > max || (n+runes(sep)+m > target && n >= chunkMin)) {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteString(sep)
			n += runes(sep)
		}
		cur.WriteString(u)
		n += m
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// chunk turns the units of one document (already normalised, non-empty) into chunks of about
// chunkTarget characters joined by sep; units longer than chunkMax are split first. A short last
// chunk is merged into the one before when the two fit in chunkMax.
func chunk(units []string, sep string) []string {
	var split []string
	for _, u := range units {
		if u != "" {
			split = append(split, splitLong(u, chunkMax)...)
		}
	}
	out := mergeUnits(split, sep, chunkTarget, chunkMax)
	if k := len(out); k >= 2 && runes(out[k-1]) < chunkMin && runes(out[k-2])+runes(sep)+runes(out[k-1]) <= chunkMax {
		out[k-2] += sep + out[k-1]
		out = out[:k-1]
	}
	return out
}

// truncate returns the longest prefix of s of at most max characters that ends at a word
// boundary (s itself when it is short enough), without trailing space.
func truncate(s string, max int) string {
	if runes(s) <= max {
		return s
	}
	cut, i := 0, 0
	for pos, r := range s {
		if i == max {
			if unicode.IsSpace(r) {
				cut = pos
			}
			break
		}
		if unicode.IsSpace(r) {
			cut = pos
		}
		i++
	}
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace)
}

// clip is truncate that cuts inside a word when the first word alone is longer than max.
func clip(s string, max int) string {
	if t := truncate(s, max); t != "" || s == "" {
		return t
	}
	rs := []rune(s)
	return string(rs[:max])
}

// toUTF8 returns b as text: as it is when it is valid UTF-8, else read as Latin-1 (ISO 8859-1),
// which maps every byte to a character.
func toUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}
