package bpetrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/eva-lora/eva/internal/atomicdir"
)

// FileOptions say what the tokenizer files declare beyond the model itself.
type FileOptions struct {
	// BOS, EOS and Pad name special tokens of the model; empty BOS and EOS mean EndOfText, an empty
	// Pad means EOS.
	BOS, EOS, Pad string
	// ModelMaxLength is tokenizer_config.json's model_max_length (0: 1024).
	ModelMaxLength int
}

// resolve fills the defaults and checks that every named token is a special token of m.
func (o FileOptions) resolve(m *Model) (FileOptions, error) {
	if o.BOS == "" {
		o.BOS = EndOfText
	}
	if o.EOS == "" {
		o.EOS = EndOfText
	}
	if o.Pad == "" {
		o.Pad = o.EOS
	}
	if o.ModelMaxLength == 0 {
		o.ModelMaxLength = 1024
	}
	if o.ModelMaxLength < 0 {
		return o, fmt.Errorf("bpetrain: negative model_max_length %d", o.ModelMaxLength)
	}
	for _, f := range []struct{ name, tok string }{{"bos", o.BOS}, {"eos", o.EOS}, {"pad", o.Pad}} {
		if !slices.Contains(m.SpecialTokens, f.tok) {
			return o, fmt.Errorf("bpetrain: %s token %q is not one of the special tokens %q", f.name, f.tok, m.SpecialTokens)
		}
	}
	return o, nil
}

// quote writes s as a JSON string (UTF-8 kept, no HTML escaping, as Hugging Face writes it).
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// byteLevelJSON is the ByteLevel component used as pre-tokenizer, post-processor and decoder.
const byteLevelJSON = `{
    "type": "ByteLevel",
    "add_prefix_space": false,
    "trim_offsets": true,
    "use_regex": true
  }`

// TokenizerJSON returns the tokenizer.json of the model in Hugging Face's schema: the special
// tokens as added tokens, no normalizer, the ByteLevel pre-tokenizer (GPT-2 regex, no prefix space),
// a ByteLevel post-processor (so encoding adds no special tokens), the ByteLevel decoder and the BPE
// model with merges as ["left", "right"] pairs.
func (m *Model) TokenizerJSON() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	for i, s := range m.SpecialTokens {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n    {\n      \"id\": %d,\n      \"content\": %s,\n      \"single_word\": false,\n"+
			"      \"lstrip\": false,\n      \"rstrip\": false,\n      \"normalized\": false,\n      \"special\": true\n    }", i, quote(s))
	}
	b.WriteString("\n  ],\n  \"normalizer\": null,\n")
	b.WriteString("  \"pre_tokenizer\": " + byteLevelJSON + ",\n")
	b.WriteString("  \"post_processor\": " + byteLevelJSON + ",\n")
	b.WriteString("  \"decoder\": " + byteLevelJSON + ",\n")
	b.WriteString("  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n" +
		"    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n" +
		"    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {")
	for id, tok := range m.Vocab {
		if id > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n      " + quote(tok) + ": " + strconv.Itoa(id))
	}
	b.WriteString("\n    },\n    \"merges\": [")
	for i, mg := range m.Merges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n      [" + quote(mg.Left) + ", " + quote(mg.Right) + "]")
	}
	b.WriteString("\n    ]\n  }\n}\n")
	return b.Bytes(), nil
}

// check verifies what TokenizerJSON relies on: special tokens first, tokens unique and valid UTF-8,
// merges over known tokens whose results are known.
func (m *Model) check() error {
	ids := make(map[string]int, len(m.Vocab))
	for id, tok := range m.Vocab {
		if tok == "" || !utf8.ValidString(tok) {
			return fmt.Errorf("bpetrain: token %d %q is empty or not valid UTF-8", id, tok)
		}
		if prev, ok := ids[tok]; ok {
			return fmt.Errorf("bpetrain: token %q has ids %d and %d", tok, prev, id)
		}
		ids[tok] = id
	}
	for i, s := range m.SpecialTokens {
		if i >= len(m.Vocab) || m.Vocab[i] != s {
			return fmt.Errorf("bpetrain: special token %q does not have id %d", s, i)
		}
	}
	for r, mg := range m.Merges {
		for _, tok := range []string{mg.Left, mg.Right, mg.Left + mg.Right} {
			if _, ok := ids[tok]; !ok {
				return fmt.Errorf("bpetrain: merge %d (%q %q): %q is not in the vocabulary", r, mg.Left, mg.Right, tok)
			}
		}
	}
	return nil
}

// addedTokenJSON is an added token as transformers writes it in tokenizer_config.json.
type addedTokenJSON struct {
	Content    string `json:"content"`
	LStrip     bool   `json:"lstrip"`
	Normalized bool   `json:"normalized"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Special    bool   `json:"special,omitempty"`
}

// marshal writes v as indented JSON without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// TokenizerConfigJSON returns tokenizer_config.json for transformers' AutoTokenizer
// (PreTrainedTokenizerFast): the special tokens, model_max_length, and
// clean_up_tokenization_spaces false so that decoding gives the text back unchanged.
func (m *Model) TokenizerConfigJSON(opt FileOptions) ([]byte, error) {
	opt, err := opt.resolve(m)
	if err != nil {
		return nil, err
	}
	decoder := map[string]addedTokenJSON{}
	for i, s := range m.SpecialTokens {
		decoder[strconv.Itoa(i)] = addedTokenJSON{Content: s, Special: true}
	}
	return marshal(map[string]any{
		"added_tokens_decoder":         decoder,
		"bos_token":                    opt.BOS,
		"eos_token":                    opt.EOS,
		"pad_token":                    opt.Pad,
		"clean_up_tokenization_spaces": false,
		"model_max_length":             opt.ModelMaxLength,
		"tokenizer_class":              "PreTrainedTokenizerFast",
	})
}

// SpecialTokensMapJSON returns special_tokens_map.json.
func (m *Model) SpecialTokensMapJSON(opt FileOptions) ([]byte, error) {
	opt, err := opt.resolve(m)
	if err != nil {
		return nil, err
	}
	tok := func(s string) addedTokenJSON { return addedTokenJSON{Content: s} }
	v := map[string]any{"bos_token": tok(opt.BOS), "eos_token": tok(opt.EOS), "pad_token": tok(opt.Pad)}
	var extra []addedTokenJSON
	for _, s := range m.SpecialTokens {
		if s != opt.BOS && s != opt.EOS && s != opt.Pad {
			extra = append(extra, tok(s))
		}
	}
	if len(extra) > 0 {
		v["additional_special_tokens"] = extra
	}
	return marshal(v)
}

// TokenizerFiles are the files WriteDir writes.
var TokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}

// WriteDir writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into dir,
// atomically: either every file is complete or dir is left as it was (other files in it stay).
func (m *Model) WriteDir(dir string, opt FileOptions) error {
	tj, err := m.TokenizerJSON()
	if err != nil {
		return err
	}
	cfg, err := m.TokenizerConfigJSON(opt)
	if err != nil {
		return err
	}
	sm, err := m.SpecialTokensMapJSON(opt)
	if err != nil {
		return err
	}
	return atomicdir.Write(dir, func(tmp string) error {
		for i, data := range [][]byte{tj, cfg, sm} {
			if err := os.WriteFile(filepath.Join(tmp, TokenizerFiles[i]), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}
