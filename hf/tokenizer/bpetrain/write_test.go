package bpetrain

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eva-lora/eva/hf/tokenizer"
)

// trainAndLoad trains on texts, writes the files into a temporary directory and loads them with
// hf/tokenizer.
func trainAndLoad(t *testing.T, texts []string, opt Options, fopt FileOptions) (*Model, *tokenizer.Tokenizer, string) {
	t.Helper()
	m, err := Train(CountTexts(texts, 0), opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tok")
	if err := m.WriteDir(dir, fopt); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m, tok, dir
}

// TestRoundTrip loads the written tokenizer with eva's runtime tokenizer and checks encode→decode on
// arbitrary UTF-8, the id range, the special tokens and that nothing is added around the text.
func TestRoundTrip(t *testing.T) {
	texts := sharedTexts(t)
	m, tok, _ := trainAndLoad(t, texts, Options{VocabSize: 800}, FileOptions{})
	if tok.VocabSize() != 800 {
		t.Fatalf("VocabSize() = %d", tok.VocabSize())
	}
	extra := []string{"", " ", "\n", "  \n\t ", "emoji 😀👍🏽 family 👨‍👩‍👧", "日本語のテキスト", "mixed\r\nlines\n\n\nend  ",
		"<|endoftext|>", "a<|endoftext|>b <|endoftext|>\n", "\u0000\u007f\u00ad\u2028", strings.Repeat("=", 3000),
		"x" + strings.Repeat(" ", 500) + "y"}
	for _, text := range append(texts, extra...) {
		ids := tok.Encode(text, true)
		if plain := tok.Encode(text, false); !slices.Equal(ids, plain) {
			t.Errorf("%q: Encode adds special tokens: %v vs %v", text, ids, plain)
		}
		for _, id := range ids {
			if id < 0 || int(id) >= len(m.Vocab) {
				t.Fatalf("%q: id %d out of range", text, id)
			}
		}
		if got := tok.Decode(ids, false); got != text {
			t.Errorf("Decode(Encode(%q)) = %q", text, got)
		}
		if strings.Contains(text, EndOfText) {
			if !slices.Contains(ids, 0) {
				t.Errorf("%q: <|endoftext|> not encoded as id 0: %v", text, ids)
			}
			if got := tok.Decode(ids, true); got != strings.ReplaceAll(text, EndOfText, "") {
				t.Errorf("Decode(skip special) = %q", got)
			}
		}
	}
	for _, id := range []func() (int32, bool){tok.BOS, tok.EOS, tok.Pad} {
		if v, ok := id(); !ok || v != 0 {
			t.Errorf("BOS/EOS/Pad = %d, %v; want 0", v, ok)
		}
	}
	if !tok.IsSpecial(0) || tok.IsSpecial(1) {
		t.Error("IsSpecial wrong for ids 0 and 1")
	}
	// Arbitrary valid UTF-8: every rune class the pre-tokenizer distinguishes, random order.
	var b strings.Builder
	for i := range 4000 {
		r := rune((i*7919 + i*i*31) % 0x2FFFF)
		if utf8.ValidRune(r) {
			b.WriteRune(r)
		}
		if i%13 == 0 {
			b.WriteString(" \n"[i%2 : i%2+1])
		}
	}
	if got := tok.Decode(tok.Encode(b.String(), false), false); got != b.String() {
		t.Error("round trip of generated text differs")
	}
}

// TestCountTokensMatchesRuntime ties the compression measure to the runtime encoder: the token
// count from the word table equals the number of ids hf/tokenizer gives for the texts.
func TestCountTokensMatchesRuntime(t *testing.T) {
	texts := sharedTexts(t)
	m, tok, _ := trainAndLoad(t, texts, Options{VocabSize: 700}, FileOptions{})
	var want int64
	for _, text := range texts {
		if strings.Contains(text, "<|") {
			continue // markers are special tokens at run time, plain text in the word table
		}
		want += int64(len(tok.Encode(text, false)))
	}
	var plain []string
	for _, text := range texts {
		if !strings.Contains(text, "<|") {
			plain = append(plain, text)
		}
	}
	if got := m.CountTokens(CountTexts(plain, 2), 2); got != want {
		t.Fatalf("CountTokens = %d, runtime encoder %d", got, want)
	}
	wc := CountTexts(plain, 1)
	if cpt := m.CharsPerToken(wc, 0); cpt < 2 || cpt > 6 {
		t.Errorf("chars per token %.2f", cpt)
	}
	for w := range wc.Counts {
		if got, want := m.EncodeWord(w), tok.Encode(w, false); !slices.Equal(got, want) {
			t.Fatalf("EncodeWord(%q) = %v, runtime %v", w, got, want)
		}
	}
}

// TestFilesSchema checks the written JSON against Hugging Face's schema and the pad-token option.
func TestFilesSchema(t *testing.T) {
	m, tok, dir := trainAndLoad(t, sharedTexts(t), Options{VocabSize: 400, SpecialTokens: []string{EndOfText, PadToken}},
		FileOptions{Pad: PadToken, ModelMaxLength: 2048})
	if id, ok := tok.Pad(); !ok || id != 1 {
		t.Errorf("Pad() = %d, %v; want 1", id, ok)
	}
	var tj struct {
		Version      string           `json:"version"`
		Truncation   json.RawMessage  `json:"truncation"`
		Padding      json.RawMessage  `json:"padding"`
		AddedTokens  []map[string]any `json:"added_tokens"`
		Normalizer   json.RawMessage  `json:"normalizer"`
		PreTokenizer map[string]any   `json:"pre_tokenizer"`
		Post         map[string]any   `json:"post_processor"`
		Decoder      map[string]any   `json:"decoder"`
		Model        map[string]any   `json:"model"`
	}
	readFile := func(name string, v any) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	readFile("tokenizer.json", &tj)
	if tj.Version != "1.0" || string(tj.Truncation) != "null" || string(tj.Padding) != "null" || string(tj.Normalizer) != "null" {
		t.Errorf("header: %q %s %s %s", tj.Version, tj.Truncation, tj.Padding, tj.Normalizer)
	}
	if len(tj.AddedTokens) != 2 || tj.AddedTokens[1]["content"] != PadToken || tj.AddedTokens[1]["id"] != 1.0 ||
		tj.AddedTokens[1]["special"] != true || tj.AddedTokens[1]["normalized"] != false {
		t.Errorf("added_tokens %v", tj.AddedTokens)
	}
	for name, c := range map[string]map[string]any{"pre_tokenizer": tj.PreTokenizer, "post_processor": tj.Post, "decoder": tj.Decoder} {
		if c["type"] != "ByteLevel" || c["add_prefix_space"] != false || c["use_regex"] != true {
			t.Errorf("%s %v", name, c)
		}
	}
	mo := tj.Model
	if mo["type"] != "BPE" || mo["dropout"] != nil || mo["unk_token"] != nil || mo["fuse_unk"] != false ||
		mo["byte_fallback"] != false || mo["ignore_merges"] != false {
		t.Errorf("model %v", mo)
	}
	vocab := mo["vocab"].(map[string]any)
	merges := mo["merges"].([]any)
	if len(vocab) != 400 || len(merges) != 400-258 || vocab[PadToken] != 1.0 || vocab["Ġ"] != float64(slices.Index(m.Vocab, "Ġ")) {
		t.Errorf("vocab %d entries, merges %d", len(vocab), len(merges))
	}
	if p := merges[0].([]any); len(p) != 2 || p[0] != m.Merges[0].Left || p[1] != m.Merges[0].Right {
		t.Errorf("merge 0 %v", merges[0])
	}
	var cfg map[string]any
	readFile("tokenizer_config.json", &cfg)
	if cfg["bos_token"] != EndOfText || cfg["eos_token"] != EndOfText || cfg["pad_token"] != PadToken ||
		cfg["model_max_length"] != 2048.0 || cfg["tokenizer_class"] != "PreTrainedTokenizerFast" ||
		cfg["clean_up_tokenization_spaces"] != false {
		t.Errorf("tokenizer_config.json %v", cfg)
	}
	var sm map[string]map[string]any
	readFile("special_tokens_map.json", &sm)
	if sm["pad_token"]["content"] != PadToken || sm["eos_token"]["content"] != EndOfText {
		t.Errorf("special_tokens_map.json %v", sm)
	}
	if _, err := m.TokenizerConfigJSON(FileOptions{Pad: "<pad>"}); err == nil {
		t.Error("an unknown pad token was accepted")
	}
}
