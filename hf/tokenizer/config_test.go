package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// miniJSON is a hand-written tokenizer: three tokens, one merge, no other parts.
const miniJSON = `{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
 "normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,
 "model":{"type":"BPE","dropout":null,"unk_token":null,"vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`

func miniWith(t *testing.T, patch map[string]string) []byte {
	t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range patch {
		raw[k] = json.RawMessage(v)
	}
	data, err := patchJSON([]byte(miniJSON), raw)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestMiniTokenizer(t *testing.T) {
	tok, err := Parse([]byte(miniJSON), "mini.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("aabxb", false); !slices.Equal(got, []int32{0, 2, 1}) { // x is dropped: no unk token
		t.Errorf("Encode = %v, want [0 2 1]", got)
	}
	if got := tok.Decode([]int32{0, 2, 99}, false); got != "a ab" { // no decoder: tokens joined by spaces
		t.Errorf("Decode = %q, want \"a ab\"", got)
	}
	if _, ok := tok.BOS(); ok {
		t.Error("BOS known without a template or config")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		patch map[string]string
		want  string
	}{
		{map[string]string{"model.type": `"WordPiece"`}, `type "WordPiece" is not supported`},
		{map[string]string{"model.dropout": `0.1`}, "dropout"},
		{map[string]string{"model.merges": `["a c"]`}, `"c" is not in the vocab`},
		{map[string]string{"model.merges": `["b a"]`}, `result "ba" is not in the vocab`},
		{map[string]string{"model.merges": `["a b c"]`}, "two tokens separated by one space"},
		{map[string]string{"model.merges": `[["a"]]`}, "does not have two tokens"},
		{map[string]string{"model.merges": `[7]`}, "neither"},
		{map[string]string{"model.vocab": `{"a":-1}`}, "out of range"},
		{map[string]string{"model.unk_token": `"<unk>"`}, `unk_token "<unk>" is not in the vocab`},
		{map[string]string{"model": `null`}, "model: missing"},
		{map[string]string{"normalizer": `{"type":"Lowercase"}`}, "normalizer Lowercase: normalizer type is not supported"},
		{map[string]string{"normalizer": `{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Strip"}]}`}, "normalizer Sequence[1] Strip"},
		{map[string]string{"normalizer": `{"type":"Replace","pattern":{"Regex":" +"},"content":" "}`}, "regex pattern"},
		{map[string]string{"normalizer": `{"normalizers":[]}`}, `no "type"`},
		{map[string]string{"pre_tokenizer": `{"type":"Metaspace","replacement":"_"}`}, "pre_tokenizer Metaspace"},
		{map[string]string{"pre_tokenizer": `{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated","invert":false}`}, `regex "\\w+" is not supported`},
		{map[string]string{"pre_tokenizer": `{"type":"Split","pattern":{"String":" "},"behavior":"Sideways","invert":false}`}, `behavior "Sideways"`},
		{map[string]string{"decoder": `{"type":"WordPiece"}`}, "decoder WordPiece"},
		{map[string]string{"decoder": `{"type":"Strip","content":"ab","start":1,"stop":0}`}, "one content character"},
		{map[string]string{"post_processor": `{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}}],"special_tokens":{}}`}, `"<s>" of the single template is missing`},
		{map[string]string{"post_processor": `{"type":"TemplateProcessing","single":[{"Sequence":{"id":"B","type_id":0}}],"special_tokens":{}}`}, `want A`},
		{map[string]string{"post_processor": `{"type":"RobertaProcessing","sep":["</s>"],"cls":["<s>",0]}`}, "sep"},
		{map[string]string{"truncation": `{"max_length":5}`}, "truncation"},
		{map[string]string{"padding": `{"strategy":"BatchLongest"}`}, "padding"},
		{map[string]string{"added_tokens": `[{"id":5,"special":true}]`}, "added_tokens[0]: no content"},
	}
	for _, c := range cases {
		_, err := Parse(miniWith(t, c.patch), "mini.json")
		if err == nil {
			t.Errorf("%v: no error, want one containing %q", c.patch, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "mini.json") {
			t.Errorf("%v: error %q should name mini.json and contain %q", c.patch, err, c.want)
		}
	}
	if _, err := Parse([]byte("{"), "broken.json"); err == nil || !strings.Contains(err.Error(), "broken.json: parse json") {
		t.Errorf("truncated JSON: error %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: error %v", err)
	}
}

// TestAddedTokenIDs checks the ids Hugging Face assigns: an added token already in the vocabulary
// keeps its id, new ones follow the vocabulary in file order, duplicates are ignored.
func TestAddedTokenIDs(t *testing.T) {
	data := miniWith(t, map[string]string{"added_tokens": `[
		{"id":9,"content":"<x>","special":true},
		{"id":0,"content":"a","special":false,"normalized":false},
		{"id":9,"content":"<y>","special":false,"normalized":false},
		{"id":9,"content":"<x>","special":true}]`})
	tok, err := Parse(data, "mini.json")
	if err != nil {
		t.Fatal(err)
	}
	for content, want := range map[string]int32{"<x>": 3, "a": 0, "<y>": 4} {
		if id, ok := tok.TokenToID(content); !ok || id != want {
			t.Errorf("TokenToID(%q) = %d, %v; want %d", content, id, ok, want)
		}
	}
	if tok.VocabSize() != 5 {
		t.Errorf("VocabSize = %d, want 5", tok.VocabSize())
	}
	if !tok.IsSpecial(3) || tok.IsSpecial(4) || tok.IsSpecial(0) {
		t.Error("IsSpecial wrong")
	}
	if got := tok.Encode("b<x>ab<y>", false); !slices.Equal(got, []int32{1, 3, 0, 1, 4}) {
		// "a" is an added token too, so it is split off before the merge "a b" could apply.
		t.Errorf("Encode = %v, want [1 3 0 1 4]", got)
	}
	if got := tok.Decode([]int32{1, 3, 4}, true); got != "b <y>" {
		t.Errorf("Decode skipping special = %q, want \"b <y>\"", got)
	}
}

// TestSpecialTokenIDs checks BOS, EOS and Pad from tokenizer_config.json and from templates.
func TestSpecialTokenIDs(t *testing.T) {
	type ids struct{ bos, eos, pad int32 } // -1: none
	get := func(tok *Tokenizer) ids {
		b, ok := tok.BOS()
		if !ok {
			b = -1
		}
		e, ok := tok.EOS()
		if !ok {
			e = -1
		}
		p, ok := tok.Pad()
		if !ok {
			p = -1
		}
		return ids{b, e, p}
	}
	ref, _ := loadReference(t)
	for _, rt := range ref.Tokenizers {
		if rt.Name == "tiny_bl_llama3" {
			tok := refTokenizerFor(t, rt)
			begin, _ := tok.TokenToID("<|begin_of_text|>")
			end, _ := tok.TokenToID("<|endoftext|>")
			if got := get(tok); got != (ids{begin, end, -1}) {
				t.Errorf("tiny_bl_llama3 template: %+v, want bos %d eos %d", got, begin, end)
			}
		}
	}
	tiny, _ := loadTiny(t, "tiny_sp")
	if got := get(tiny); got != (ids{1, -1, -1}) {
		t.Errorf("tiny_sp template: %+v, want bos 1 only", got)
	}
	want := map[string]ids{
		"llama2": {1, 2, -1},
		"llama3": {128000, 128001, -1},
		"qwen3":  {-1, 151645, 151643},
		"gpt2":   {50256, 50256, -1},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			path := npmTokenizerPath(t, name)
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), "tokenizer_config.json")); err != nil {
				t.Skip("no tokenizer_config.json")
			}
			tok, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := get(tok); got != w {
				t.Errorf("%+v, want %+v", got, w)
			}
		})
	}
}

// TestIDTokenRoundTrip checks that every id of a real vocabulary maps to a token and back.
func TestIDTokenRoundTrip(t *testing.T) {
	for _, name := range []string{"gpt2", "llama3"} {
		t.Run(name, func(t *testing.T) {
			tok, err := Load(npmTokenizerPath(t, name))
			if err != nil {
				t.Fatal(err)
			}
			for id := int32(0); id < int32(tok.VocabSize()); id++ {
				s, ok := tok.IDToToken(id)
				if !ok {
					t.Fatalf("IDToToken(%d) missing", id)
				}
				if back, ok := tok.TokenToID(s); !ok || back != id {
					t.Fatalf("TokenToID(IDToToken(%d) = %q) = %d", id, s, back)
				}
			}
		})
	}
}
