package tokenizer

import "strings"

// normalizer rewrites text before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

// normalizerSeq applies normalizers in order.
type normalizerSeq []normalizer

func (seq normalizerSeq) normalize(s string) string {
	for _, n := range seq {
		s = n.normalize(s)
	}
	return s
}

// prependNormalizer puts a string in front of non-empty text (SentencePiece's "▁" word marker).
type prependNormalizer string

func (p prependNormalizer) normalize(s string) string {
	if s == "" {
		return s
	}
	return string(p) + s
}

// replaceNormalizer replaces every non-overlapping occurrence of old, left to right.
type replaceNormalizer struct{ old, new string }

func (r replaceNormalizer) normalize(s string) string {
	if r.old == "" {
		return s
	}
	return strings.ReplaceAll(s, r.old, r.new)
}

// unicodeNormalizer applies NFC, NFD, NFKC or NFKD.
type unicodeNormalizer unicodeForm

func (u unicodeNormalizer) normalize(s string) string { return normalizeUnicode(s, unicodeForm(u)) }
