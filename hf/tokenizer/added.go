package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens: text matched in the input before
// normalization and pre-tokenization, and encoded as one id.
type addedToken struct {
	id         int32
	content    string
	special    bool   // skipped by Decode with skipSpecial
	lstrip     bool   // the match swallows whitespace on its left
	rstrip     bool   // the match swallows whitespace on its right
	singleWord bool   // matches only where it is not inside a word
	normalized bool   // matched in the normalized text rather than the raw input
	decoded    string // what Decode shows: the content, normalized if normalized is set
}

// tokenTrie finds added tokens in text, leftmost first and longest at that position.
type tokenTrie struct {
	nodes []trieNode
	first [256]bool // bytes that start some token
}

type trieNode struct {
	next  map[byte]int32
	token int32 // index into addedVocab.tokens of the token ending here, -1 if none
}

func newTokenTrie() *tokenTrie {
	return &tokenTrie{nodes: []trieNode{{token: -1}}}
}

func (t *tokenTrie) insert(content string, token int32) {
	n := int32(0)
	for i := 0; i < len(content); i++ {
		c := content[i]
		child, ok := t.nodes[n].next[c]
		if !ok {
			if t.nodes[n].next == nil {
				t.nodes[n].next = map[byte]int32{}
			}
			child = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{token: -1})
			t.nodes[n].next[c] = child
		}
		n = child
	}
	t.first[content[0]] = true
	t.nodes[n].token = token
}

// longestAt returns the token and end of the longest token that starts at i, or -1.
func (t *tokenTrie) longestAt(s string, i int) (token int32, end int) {
	token, end = -1, -1
	n := int32(0)
	for j := i; j < len(s); j++ {
		child, ok := t.nodes[n].next[s[j]]
		if !ok {
			break
		}
		n = child
		if t.nodes[n].token >= 0 {
			token, end = t.nodes[n].token, j+1
		}
	}
	return token, end
}

// segment is a part of the input: plain text, or an added token (token >= 0).
type segment struct {
	text  string
	token int32 // index into addedVocab.tokens, -1 for text
}

// addedVocab holds the added tokens and the tries that split text on them.
type addedVocab struct {
	tokens    []addedToken
	byContent map[string]int32 // content -> index in tokens
	byID      map[int32]int32  // id -> index in tokens
	raw       *tokenTrie       // tokens matched before normalization
	norm      *tokenTrie       // tokens matched after normalization (content normalized)
}

// split cuts s into text and added-token segments, applying the tokens' strip and word rules.
// Empty text segments are dropped.
func (v *addedVocab) split(s string, trie *tokenTrie, dst []segment) []segment {
	if trie == nil || len(trie.nodes) == 1 {
		if s != "" {
			dst = append(dst, segment{s, -1})
		}
		return dst
	}
	prev := 0
	for i := 0; i < len(s); {
		if !trie.first[s[i]] {
			i++
			continue
		}
		tok, end := trie.longestAt(s, i)
		if tok < 0 {
			i++
			continue
		}
		start, stop := i, end
		t := &v.tokens[tok]
		if t.singleWord && (endsWithWordChar(s[:start]) || startsWithWordChar(s[stop:])) {
			i = end // the next search starts after this match, as Aho-Corasick's iterator does
			continue
		}
		if t.lstrip {
			start = trimRightSpaceEnd(s[:start])
			if start < prev {
				start = prev
			}
		}
		if t.rstrip {
			stop += len(s[stop:]) - len(trimLeftSpace(s[stop:]))
		}
		if prev < start {
			dst = append(dst, segment{s[prev:start], -1})
		}
		dst = append(dst, segment{s[start:stop], tok})
		prev, i = stop, stop
	}
	if prev < len(s) {
		dst = append(dst, segment{s[prev:], -1})
	}
	return dst
}

// isWordChar is Rust's char::is_alphanumeric (Alphabetic or Numeric) or '_'.
func isWordChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Other_Alphabetic, r)
}

func endsWithWordChar(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	return size > 0 && isWordChar(r)
}

func startsWithWordChar(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return size > 0 && isWordChar(r)
}

// trimRightSpaceEnd returns the length of s without its trailing whitespace.
func trimRightSpaceEnd(s string) int {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-size]
	}
	return len(s)
}

func trimLeftSpace(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[size:]
	}
	return s
}
