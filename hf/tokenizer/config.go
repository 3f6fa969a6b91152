package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// This file turns tokenizer.json into the tokenizer's parts. Every option that would change the ids
// and is not implemented is an error that names it, so a file is never encoded half right.

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	Truncation    json.RawMessage  `json:"truncation"`
	Padding       json.RawMessage  `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	Model         json.RawMessage  `json:"model"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
}

type addedTokenJSON struct {
	ID         *int64  `json:"id"`
	Content    *string `json:"content"`
	SingleWord bool    `json:"single_word"`
	LStrip     bool    `json:"lstrip"`
	RStrip     bool    `json:"rstrip"`
	Normalized *bool   `json:"normalized"`
	Special    bool    `json:"special"`
}

type bpeJSON struct {
	Type                    string           `json:"type"`
	Dropout                 *float64         `json:"dropout"`
	UnkToken                *string          `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
	FuseUnk                 bool             `json:"fuse_unk"`
	ByteFallback            bool             `json:"byte_fallback"`
	IgnoreMerges            bool             `json:"ignore_merges"`
	Vocab                   map[string]int64 `json:"vocab"`
	Merges                  []mergeJSON      `json:"merges"`
}

// mergeJSON is one merge, written either as "a b" or as ["a", "b"].
type mergeJSON struct{ a, b string }

func (m *mergeJSON) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		parts := strings.Split(s, " ")
		if len(parts) != 2 {
			return fmt.Errorf("merge %q is not two tokens separated by one space", s)
		}
		m.a, m.b = parts[0], parts[1]
		return nil
	}
	var pair []string
	if err := json.Unmarshal(data, &pair); err != nil {
		return fmt.Errorf("merge %s is neither \"a b\" nor [\"a\", \"b\"]", truncateJSON(data))
	}
	if len(pair) != 2 {
		return fmt.Errorf("merge %s does not have two tokens", truncateJSON(data))
	}
	m.a, m.b = pair[0], pair[1]
	return nil
}

// typed reads the "type" field of a component.
type typed struct {
	Type string `json:"type"`
}

// patternJSON is a Split or Replace pattern: {"String": "..."} or {"Regex": "..."}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func truncateJSON(raw []byte) string {
	const max = 80
	s := string(bytes.TrimSpace(raw))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// componentType decodes the type of a component, where names the component ("normalizer"): "" for
// JSON null (no component), else the type and where extended by it, for the component's own errors.
func componentType(raw json.RawMessage, where string) (typ, at string, err error) {
	if isNull(raw) {
		return "", where, nil
	}
	var t typed
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", where, fmt.Errorf("%s: %w", where, err)
	}
	if t.Type == "" {
		return "", where, fmt.Errorf("%s: no \"type\" in %s", where, truncateJSON(raw))
	}
	return t.Type, where + " " + t.Type, nil
}

// decodeComponent unmarshals a component into v, naming it in errors.
func decodeComponent(raw json.RawMessage, v any, where string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// parseReplace reads a Replace normalizer's or decoder's literal pattern and its replacement.
func parseReplace(raw json.RawMessage, where string) (old, content string, err error) {
	var v struct {
		Pattern patternJSON `json:"pattern"`
		Content string      `json:"content"`
	}
	if err := decodeComponent(raw, &v, where); err != nil {
		return "", "", err
	}
	old, err = v.Pattern.literal(where)
	return old, v.Content, err
}

// literal reads a pattern that must be a plain string (Replace normalizer and decoder).
func (p patternJSON) literal(where string) (string, error) {
	if p.Regex != nil {
		return "", fmt.Errorf("%s: regex pattern %q is not supported (only {\"String\": ...})", where, *p.Regex)
	}
	if p.String == nil {
		return "", fmt.Errorf("%s: pattern has neither String nor Regex", where)
	}
	return *p.String, nil
}

func parseNormalizer(raw json.RawMessage, where string) (normalizer, error) {
	typ, where, err := componentType(raw, where)
	if typ == "" || err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		items, err := parseSequence(raw, "normalizers", where, parseNormalizer)
		return normalizerSeq(items), err
	case "Prepend":
		var v struct {
			Prepend string `json:"prepend"`
		}
		if err := decodeComponent(raw, &v, where); err != nil {
			return nil, err
		}
		return prependNormalizer(v.Prepend), nil
	case "Replace":
		old, content, err := parseReplace(raw, where)
		if err != nil {
			return nil, err
		}
		return replaceNormalizer{old, content}, nil
	case "NFC":
		return unicodeNormalizer(formNFC), nil
	case "NFD":
		return unicodeNormalizer(formNFD), nil
	case "NFKC":
		return unicodeNormalizer(formNFKC), nil
	case "NFKD":
		return unicodeNormalizer(formNFKD), nil
	}
	return nil, fmt.Errorf("%s: normalizer type is not supported (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD)", where)
}

func parsePreTokenizer(raw json.RawMessage, where string) (preTokenizer, error) {
	typ, where, err := componentType(raw, where)
	if typ == "" || err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		items, err := parseSequence(raw, "pretokenizers", where, parsePreTokenizer)
		return preTokenizerSeq(items), err
	case "ByteLevel":
		v := struct {
			AddPrefixSpace bool  `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}{}
		if err := decodeComponent(raw, &v, where); err != nil {
			return nil, err
		}
		return byteLevelPre{addPrefixSpace: v.AddPrefixSpace, useRegex: v.UseRegex == nil || *v.UseRegex}, nil
	case "Split":
		var v struct {
			Pattern  patternJSON `json:"pattern"`
			Behavior string      `json:"behavior"`
			Invert   bool        `json:"invert"`
		}
		if err := decodeComponent(raw, &v, where); err != nil {
			return nil, err
		}
		var p splitPre
		switch {
		case v.Pattern.String != nil:
			p.pattern = literalPattern(*v.Pattern.String)
		case v.Pattern.Regex != nil:
			pat, ok := knownRegex(*v.Pattern.Regex)
			if !ok {
				return nil, fmt.Errorf("%s: regex %q is not supported (known: the GPT-2, Llama 3 and Qwen2 pre-tokenization regexes)", where, *v.Pattern.Regex)
			}
			p.pattern = pat
		default:
			return nil, fmt.Errorf("%s: pattern has neither String nor Regex", where)
		}
		behaviors := map[string]splitBehavior{
			"Removed": splitRemoved, "Isolated": splitIsolated, "MergedWithPrevious": splitMergedWithPrevious,
			"MergedWithNext": splitMergedWithNext, "Contiguous": splitContiguous,
		}
		b, ok := behaviors[v.Behavior]
		if !ok {
			return nil, fmt.Errorf("%s: behavior %q is not supported", where, v.Behavior)
		}
		p.behavior, p.invert = b, v.Invert
		return p, nil
	}
	return nil, fmt.Errorf("%s: pre-tokenizer type is not supported (supported: Sequence, ByteLevel, Split)", where)
}

func parseDecoder(raw json.RawMessage, where string) (decoder, error) {
	typ, where, err := componentType(raw, where)
	if typ == "" || err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		items, err := parseSequence(raw, "decoders", where, parseDecoder)
		return decoderSeq(items), err
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "Replace":
		old, content, err := parseReplace(raw, where)
		if err != nil {
			return nil, err
		}
		return replaceDecoder{old, content}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		var v struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}
		if err := decodeComponent(raw, &v, where); err != nil {
			return nil, err
		}
		runes := []rune(v.Content)
		if len(runes) != 1 || v.Start < 0 || v.Stop < 0 {
			return nil, fmt.Errorf("%s: want one content character and non-negative start and stop, have %q, %d, %d", where, v.Content, v.Start, v.Stop)
		}
		return stripDecoder{runes[0], v.Start, v.Stop}, nil
	}
	return nil, fmt.Errorf("%s: decoder type is not supported (supported: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip)", where)
}

// parsePostProcessor builds the post-processor; lookup resolves token strings to ids.
func parsePostProcessor(raw json.RawMessage, where string, lookup func(string) (int32, bool)) (postProcessor, error) {
	typ, where, err := componentType(raw, where)
	if typ == "" || err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		items, err := parseSequence(raw, "processors", where, func(r json.RawMessage, at string) (postProcessor, error) {
			return parsePostProcessor(r, at, lookup)
		})
		return postProcessorSeq(items), err
	case "ByteLevel":
		return noopPost{}, nil
	case "TemplateProcessing":
		return parseTemplate(raw, where)
	case "RobertaProcessing", "BertProcessing":
		var v struct {
			Sep []json.RawMessage `json:"sep"`
			Cls []json.RawMessage `json:"cls"`
		}
		if err := decodeComponent(raw, &v, where); err != nil {
			return nil, err
		}
		cls, err := tokenAndID(v.Cls, where+" cls")
		if err != nil {
			return nil, err
		}
		sep, err := tokenAndID(v.Sep, where+" sep")
		if err != nil {
			return nil, err
		}
		return wrapPost{cls, sep}, nil
	}
	return nil, fmt.Errorf("%s: post-processor type is not supported (supported: Sequence, ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing)", where)
}

// tokenAndID reads a ["token", id] pair.
func tokenAndID(pair []json.RawMessage, where string) (int32, error) {
	var id int64
	if len(pair) != 2 || json.Unmarshal(pair[1], &id) != nil || id < 0 || id > maxTokenID {
		return 0, fmt.Errorf("%s: want [\"token\", id]", where)
	}
	return int32(id), nil
}

func parseTemplate(raw json.RawMessage, where string) (postProcessor, error) {
	var v struct {
		Single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		} `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int64 `json:"ids"`
		} `json:"special_tokens"`
	}
	if err := decodeComponent(raw, &v, where); err != nil {
		return nil, err
	}
	var t templatePost
	for i, piece := range v.Single {
		switch {
		case piece.Sequence != nil:
			if piece.Sequence.ID != "A" {
				return nil, fmt.Errorf("%s: single template piece %d names sequence %q, want A", where, i, piece.Sequence.ID)
			}
			t.pieces = append(t.pieces, nil)
		case piece.SpecialToken != nil:
			st, ok := v.SpecialTokens[piece.SpecialToken.ID]
			if !ok {
				return nil, fmt.Errorf("%s: special token %q of the single template is missing from special_tokens", where, piece.SpecialToken.ID)
			}
			ids := make([]int32, 0, len(st.IDs))
			for _, id := range st.IDs {
				if id < 0 || id > maxTokenID {
					return nil, fmt.Errorf("%s: special token %q has id %d out of range", where, piece.SpecialToken.ID, id)
				}
				ids = append(ids, int32(id))
			}
			t.pieces = append(t.pieces, ids)
		default:
			return nil, fmt.Errorf("%s: single template piece %d is neither SpecialToken nor Sequence", where, i)
		}
	}
	return t, nil
}

// maxTokenID bounds token ids: Hugging Face stores them as u32, but real vocabularies stay far below
// 2^24, and the bound keeps ids computed for added tokens from overflowing int32.
const maxTokenID = 1<<24 - 1

// parseBPE builds the model from tokenizer.json's "model".
func parseBPE(raw json.RawMessage) (*bpeModel, error) {
	if isNull(raw) {
		return nil, errors.New("model: missing")
	}
	typ, _, err := componentType(raw, "model")
	if err != nil {
		return nil, err
	}
	if typ != "BPE" {
		return nil, fmt.Errorf("model: type %q is not supported (only BPE)", typ)
	}
	var v bpeJSON
	if err := decodeComponent(raw, &v, "model BPE"); err != nil {
		return nil, err
	}
	if v.Dropout != nil && *v.Dropout != 0 {
		return nil, fmt.Errorf("model BPE: dropout %g is not supported", *v.Dropout)
	}
	m := &bpeModel{
		vocab:        make(map[string]int32, len(v.Vocab)),
		merges:       make(map[uint64]bpeMerge, len(v.Merges)),
		unk:          -1,
		fuseUnk:      v.FuseUnk,
		byteFallback: v.ByteFallback,
		ignoreMerges: v.IgnoreMerges,
	}
	if v.ContinuingSubwordPrefix != nil {
		m.prefix = *v.ContinuingSubwordPrefix
	}
	if v.EndOfWordSuffix != nil {
		m.suffix = *v.EndOfWordSuffix
	}
	for tok, id := range v.Vocab {
		if id < 0 || id > maxTokenID {
			return nil, fmt.Errorf("model BPE: vocab token %q has id %d out of range", tok, id)
		}
		m.vocab[tok] = int32(id)
	}
	if v.UnkToken != nil {
		id, ok := m.vocab[*v.UnkToken]
		if !ok {
			return nil, fmt.Errorf("model BPE: unk_token %q is not in the vocab", *v.UnkToken)
		}
		m.unk = id
	}
	for b := range m.byteTokens {
		m.byteTokens[b] = -1
		if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteTokens[b] = id
		}
	}
	for rank, mg := range v.Merges {
		a, ok := m.vocab[mg.a]
		if !ok {
			return nil, fmt.Errorf("model BPE: merge %d: token %q is not in the vocab", rank, mg.a)
		}
		b, ok := m.vocab[mg.b]
		if !ok {
			return nil, fmt.Errorf("model BPE: merge %d: token %q is not in the vocab", rank, mg.b)
		}
		right := mg.b
		if m.prefix != "" {
			right = strings.TrimPrefix(right, m.prefix)
		}
		merged, ok := m.vocab[mg.a+right]
		if !ok {
			return nil, fmt.Errorf("model BPE: merge %d: result %q is not in the vocab", rank, mg.a+right)
		}
		m.merges[pairKey(rune(a), rune(b))] = bpeMerge{rank: int32(rank), id: merged}
	}
	return m, nil
}

// parseSequence decodes a Sequence component: the JSON list under field, each item parsed by parse
// (with its index in error locations); items that parse to nil (null entries) are dropped.
func parseSequence[T comparable](raw json.RawMessage, field, where string, parse func(json.RawMessage, string) (T, error)) ([]T, error) {
	var v map[string]json.RawMessage
	if err := decodeComponent(raw, &v, where); err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if r, ok := v[field]; ok && !isNull(r) {
		if err := json.Unmarshal(r, &list); err != nil {
			return nil, fmt.Errorf("%s: %q is not a list: %w", where, field, err)
		}
	}
	var zero T
	var seq []T
	for i, r := range list {
		item, err := parse(r, fmt.Sprintf("%s[%d]", where, i))
		if err != nil {
			return nil, err
		}
		if item != zero {
			seq = append(seq, item)
		}
	}
	return seq, nil
}
