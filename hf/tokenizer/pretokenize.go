package tokenizer

import "strings"

// preTokenizer splits text into the pieces the model encodes one by one.
type preTokenizer interface {
	// preTokenize splits every piece further and returns the new pieces, none of them empty.
	preTokenize(pieces []string) []string
}

// preTokenizerSeq applies pre-tokenizers in order.
type preTokenizerSeq []preTokenizer

func (seq preTokenizerSeq) preTokenize(pieces []string) []string {
	for _, p := range seq {
		pieces = p.preTokenize(pieces)
	}
	return pieces
}

// byteLevelPre is the ByteLevel pre-tokenizer: optionally a leading space, optionally the GPT-2
// regex split, then every byte mapped to its byte-level rune. With keepBytes the mapping is left to
// the model (bpeModel.tokenizeBytes), which saves building the mapped strings.
type byteLevelPre struct {
	addPrefixSpace bool
	useRegex       bool
	keepBytes      bool
}

func (p byteLevelPre) preTokenize(pieces []string) []string {
	out := make([]string, 0, len(pieces))
	emit := func(s string) {
		if s == "" {
			return
		}
		if !p.keepBytes {
			s = byteLevelEncode(s)
		}
		out = append(out, s)
	}
	for _, piece := range pieces {
		if p.addPrefixSpace && !strings.HasPrefix(piece, " ") {
			piece = " " + piece
		}
		if !p.useRegex {
			emit(piece)
			continue
		}
		eachSpan(piece, gpt2Pattern{}, func(sp span) { emit(piece[sp.start:sp.end]) })
	}
	return out
}

// keepBytesAtEnd returns p with its final ByteLevel step (if p ends with one and has no other) set to
// leave pieces unmapped, and whether it did so.
func keepBytesAtEnd(p preTokenizer) (preTokenizer, bool) {
	switch q := p.(type) {
	case byteLevelPre:
		q.keepBytes = true
		return q, true
	case preTokenizerSeq:
		if len(q) == 0 {
			return p, false
		}
		for _, step := range q[:len(q)-1] {
			if containsByteLevel(step) {
				return p, false
			}
		}
		last, ok := keepBytesAtEnd(q[len(q)-1])
		if !ok {
			return p, false
		}
		out := append(preTokenizerSeq(nil), q[:len(q)-1]...)
		return append(out, last), true
	}
	return p, false
}

func containsByteLevel(p preTokenizer) bool {
	switch q := p.(type) {
	case byteLevelPre:
		return true
	case preTokenizerSeq:
		for _, step := range q {
			if containsByteLevel(step) {
				return true
			}
		}
	}
	return false
}

// splitBehavior says what a Split pre-tokenizer does with the matched delimiters.
type splitBehavior int

const (
	splitRemoved            splitBehavior = iota // drop matches
	splitIsolated                                // matches become pieces of their own
	splitMergedWithPrevious                      // a match joins the piece before it
	splitMergedWithNext                          // a match joins the piece after it
	splitContiguous                              // consecutive matches form one piece
)

// splitPre is the Split pre-tokenizer.
type splitPre struct {
	pattern  splitPattern
	behavior splitBehavior
	invert   bool
}

func (p splitPre) preTokenize(pieces []string) []string {
	out := make([]string, 0, len(pieces))
	for _, piece := range pieces {
		if p.behavior == splitIsolated { // every match and gap is a piece: no need to collect spans
			eachSpan(piece, p.pattern, func(sp span) { out = append(out, piece[sp.start:sp.end]) })
			continue
		}
		spans := findSpans(piece, p.pattern)
		if p.invert {
			for i := range spans {
				spans[i].match = !spans[i].match
			}
		}
		for _, sp := range applyBehavior(spans, p.behavior) {
			if !sp.match && sp.end > sp.start { // here match marks a removed span
				out = append(out, piece[sp.start:sp.end])
			}
		}
	}
	return out
}

// applyBehavior turns matches and gaps into pieces; in the result, match marks spans to remove.
func applyBehavior(spans []span, b splitBehavior) []span {
	switch b {
	case splitRemoved:
		return spans
	case splitIsolated:
		for i := range spans {
			spans[i].match = false
		}
		return spans
	case splitContiguous:
		var out []span
		prevMatch := false
		for _, sp := range spans {
			if sp.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prevMatch = sp.match
		}
		return out
	case splitMergedWithPrevious:
		var out []span
		prevMatch := false
		for _, sp := range spans {
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prevMatch = sp.match
		}
		return out
	default: // splitMergedWithNext
		var rev []span
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prevMatch && len(rev) > 0 {
				rev[len(rev)-1].start = sp.start
			} else {
				rev = append(rev, span{sp.start, sp.end, false})
			}
			prevMatch = sp.match
		}
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		return rev
	}
}
