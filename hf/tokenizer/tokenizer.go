package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Tokenizer encodes text to token ids and decodes ids to text.
type Tokenizer struct {
	name       string
	added      *addedVocab
	normalizer normalizer   // nil: none
	pre        preTokenizer // nil: the whole text is one word
	rawBytes   bool         // pre leaves byte-level mapping to the model (tokenizeBytes)
	model      *bpeModel
	post       postProcessor // nil: Encode adds no special tokens
	decoder    decoder       // nil: Decode joins tokens with spaces
	idToToken  map[int32]string
	vocabSize  int
	bos, eos   int32 // -1 when unknown
	pad        int32 // -1 when unknown
}

// Load reads a tokenizer.json file. If a tokenizer_config.json lies beside it, its bos_token,
// eos_token and pad_token set BOS, EOS and Pad; otherwise BOS and EOS come from the special tokens
// that the post-processor's template puts before and after the text.
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	cfg, err := os.ReadFile(cfgPath)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if err := t.applyConfig(cfg); err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", cfgPath, err)
	}
	return t, nil
}

// Parse builds a tokenizer from the contents of a tokenizer.json file; name (usually its path)
// appears in errors.
func Parse(data []byte, name string) (*Tokenizer, error) {
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", name, err)
	}
	t.name = name
	return t, nil
}

func parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	if !isNull(f.Truncation) {
		return nil, errors.New("truncation is set; it is not supported (truncate the ids instead)")
	}
	if !isNull(f.Padding) {
		return nil, errors.New("padding is set; it is not supported (pad the ids instead)")
	}
	model, err := parseBPE(f.Model)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{model: model, bos: -1, eos: -1, pad: -1}
	if t.normalizer, err = parseNormalizer(f.Normalizer, "normalizer"); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer, "pre_tokenizer"); err != nil {
		return nil, err
	}
	if pre, ok := keepBytesAtEnd(t.pre); ok && model.enableBytes() {
		t.pre, t.rawBytes = pre, true
	}
	if t.decoder, err = parseDecoder(f.Decoder, "decoder"); err != nil {
		return nil, err
	}
	if t.added, err = buildAddedVocab(f.AddedTokens, model, t.normalizer); err != nil {
		return nil, err
	}
	if t.post, err = parsePostProcessor(f.PostProcessor, "post_processor", t.TokenToID); err != nil {
		return nil, err
	}
	t.idToToken = make(map[int32]string, len(model.vocab))
	for tok, id := range model.vocab {
		if prev, ok := t.idToToken[id]; !ok || tok < prev { // deterministic when ids repeat
			t.idToToken[id] = tok
		}
	}
	t.vocabSize = len(model.vocab)
	for content := range t.added.byContent {
		if _, ok := model.vocab[content]; !ok {
			t.vocabSize++
		}
	}
	t.bos, t.eos = templateBounds(t.post)
	return t, nil
}

// buildAddedVocab registers the added tokens in file order, giving each the id Hugging Face gives
// it: its id in the model vocabulary or among earlier added tokens if its content is there, else the
// next id after the model vocabulary and the added tokens so far.
func buildAddedVocab(list []addedTokenJSON, model *bpeModel, norm normalizer) (*addedVocab, error) {
	tokens := make([]addedToken, 0, len(list))
	for i, a := range list {
		if a.Content == nil {
			return nil, fmt.Errorf("added_tokens[%d]: no content", i)
		}
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		tokens = append(tokens, addedToken{content: *a.Content, special: a.Special, lstrip: a.LStrip,
			rstrip: a.RStrip, singleWord: a.SingleWord, normalized: normalized})
	}
	// Like Hugging Face, keep special tokens and the others in two lists; the tries take the
	// special ones first.
	specialSet := map[string]bool{}
	var matchOrder, plain []addedToken
	for _, tok := range tokens {
		if tok.special && tok.content != "" && !specialSet[tok.content] {
			specialSet[tok.content] = true
			matchOrder = append(matchOrder, tok)
		}
	}
	v := &addedVocab{byContent: map[string]int32{}, byID: map[int32]int32{}}
	vocabSize := int32(len(model.vocab))
	maxAdded := int32(-1)
	for _, tok := range tokens {
		if tok.content == "" {
			continue
		}
		idx, seen := v.byContent[tok.content]
		if seen && v.tokens[idx].sameFlags(tok) {
			continue
		}
		var id int32
		if seen {
			id = v.tokens[idx].id
		} else if mid, ok := model.vocab[tok.content]; ok {
			id = mid
		} else if maxAdded < 0 || (maxAdded < vocabSize && vocabSize > 0) {
			id = vocabSize
		} else {
			id = maxAdded + 1
		}
		if id > maxAdded {
			maxAdded = id
		}
		tok.id = id
		tok.decoded = tok.content
		if tok.normalized && norm != nil {
			// Hugging Face decodes a normalized added token as its normalized content.
			tok.decoded = norm.normalize(tok.content)
		}
		if at, ok := v.byID[id]; ok {
			v.tokens[at] = tok // a later entry with the same id replaces the earlier one
		} else {
			v.byID[id] = int32(len(v.tokens))
			v.tokens = append(v.tokens, tok)
		}
		v.byContent[tok.content] = v.byID[id]
		if !specialSet[tok.content] {
			plain = append(plain, tok)
		}
	}
	v.raw, v.norm = newTokenTrie(), newTokenTrie()
	for _, tok := range append(matchOrder, plain...) {
		idx := v.byContent[tok.content]
		if !tok.normalized {
			v.raw.insert(tok.content, idx)
			continue
		}
		content := tok.content
		if norm != nil {
			content = norm.normalize(content)
		}
		if content != "" {
			v.norm.insert(content, idx)
		}
	}
	return v, nil
}

// sameFlags reports whether two added tokens are identical apart from their ids.
func (a addedToken) sameFlags(b addedToken) bool {
	a.id, b.id = 0, 0
	return a == b
}

// templateBounds returns the ids of the single special tokens a template puts before and after the
// sequence, -1 where there is none.
func templateBounds(p postProcessor) (bos, eos int32) {
	bos, eos = -1, -1
	switch p := p.(type) {
	case templatePost:
		for i, piece := range p.pieces {
			if piece == nil {
				if i > 0 && len(p.pieces[i-1]) == 1 {
					bos = p.pieces[i-1][0]
				}
				if i+1 < len(p.pieces) && len(p.pieces[i+1]) == 1 {
					eos = p.pieces[i+1][0]
				}
			}
		}
	case wrapPost:
		bos, eos = p.first, p.last
	case postProcessorSeq:
		for _, q := range p {
			if b, e := templateBounds(q); b >= 0 || e >= 0 {
				bos, eos = b, e
			}
		}
	}
	return bos, eos
}

// applyConfig reads bos_token, eos_token and pad_token from tokenizer_config.json.
func (t *Tokenizer) applyConfig(data []byte) error {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("parse json: %w", err)
	}
	for _, f := range []struct {
		key string
		dst *int32
	}{{"bos_token", &t.bos}, {"eos_token", &t.eos}, {"pad_token", &t.pad}} {
		raw, ok := cfg[f.key]
		if !ok {
			continue
		}
		content, err := configToken(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
		if content == "" {
			*f.dst = -1
			continue
		}
		id, ok := t.TokenToID(content)
		if !ok {
			return fmt.Errorf("%s %q is not in the vocabulary", f.key, content)
		}
		*f.dst = id
	}
	return nil
}

// configToken reads a token of tokenizer_config.json: null, "text" or {"content": "text", ...}.
func configToken(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("want a string or an object with content, have %s", truncateJSON(raw))
	}
	return obj.Content, nil
}

// Encode returns the ids of text. With addSpecial, the post-processor's special tokens (BOS for
// Llama 2, say) are added, as Hugging Face's add_special_tokens=True does. Added tokens that occur in
// the text, special or not, are always encoded as their own ids.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	ids := make([]int32, 0, len(text)/3+4)
	var normSegs []segment
	for _, seg := range t.added.split(text, t.added.raw, nil) {
		if seg.token >= 0 {
			ids = append(ids, t.added.tokens[seg.token].id)
			continue
		}
		s := seg.text
		if t.normalizer != nil {
			s = t.normalizer.normalize(s)
		}
		normSegs = t.added.split(s, t.added.norm, normSegs[:0])
		for _, ns := range normSegs {
			if ns.token >= 0 {
				ids = append(ids, t.added.tokens[ns.token].id)
				continue
			}
			if t.pre == nil {
				ids = t.model.tokenize(ns.text, ids)
				continue
			}
			for _, piece := range t.pre.preTokenize([]string{ns.text}) {
				if t.rawBytes {
					ids = t.model.tokenizeBytes(piece, ids)
				} else {
					ids = t.model.tokenize(piece, ids)
				}
			}
		}
	}
	if addSpecial && t.post != nil {
		ids = t.post.process(ids)
	}
	return ids
}

// Decode returns the text of ids. Ids that are not in the vocabulary are skipped; with skipSpecial,
// so are special added tokens.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if idx, ok := t.added.byID[id]; ok {
			tok := t.added.tokens[idx]
			if !(skipSpecial && t.isSpecialContent(tok.content)) {
				tokens = append(tokens, tok.decoded)
			}
			continue
		}
		if tok, ok := t.idToToken[id]; ok {
			if !(skipSpecial && t.isSpecialContent(tok)) {
				tokens = append(tokens, tok)
			}
		}
	}
	if t.decoder == nil {
		return strings.Join(tokens, " ")
	}
	return strings.Join(t.decoder.decodeChain(tokens), "")
}

func (t *Tokenizer) isSpecialContent(content string) bool {
	idx, ok := t.added.byContent[content]
	return ok && t.added.tokens[idx].special
}

// IsSpecial reports whether id is a special added token (one that Decode with skipSpecial drops).
func (t *Tokenizer) IsSpecial(id int32) bool {
	tok, ok := t.IDToToken(id)
	return ok && t.isSpecialContent(tok)
}

// VocabSize returns the number of distinct tokens, added tokens included (Hugging Face's
// get_vocab_size(with_added_tokens=True)).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// TokenToID returns the id of a token string (an added token's content or a vocabulary entry in
// the model's alphabet, such as "Ġthe" for byte-level tokenizers).
func (t *Tokenizer) TokenToID(token string) (int32, bool) {
	if idx, ok := t.added.byContent[token]; ok {
		return t.added.tokens[idx].id, true
	}
	id, ok := t.model.vocab[token]
	return id, ok
}

// IDToToken returns the token string of an id.
func (t *Tokenizer) IDToToken(id int32) (string, bool) {
	if idx, ok := t.added.byID[id]; ok {
		return t.added.tokens[idx].content, true
	}
	tok, ok := t.idToToken[id]
	return tok, ok
}

// BOS returns the beginning-of-sequence id, if known.
func (t *Tokenizer) BOS() (int32, bool) { return t.bos, t.bos >= 0 }

// EOS returns the end-of-sequence id, if known.
func (t *Tokenizer) EOS() (int32, bool) { return t.eos, t.eos >= 0 }

// Pad returns the padding id, if tokenizer_config.json names one.
func (t *Tokenizer) Pad() (int32, bool) { return t.pad, t.pad >= 0 }

// Name returns the path or name the tokenizer was loaded from.
func (t *Tokenizer) Name() string { return t.name }
