package tokconfig

import (
	"strings"
	"testing"
)

// FuzzParse hands Parse arbitrary tokenizer_config.json contents: it must never panic, errors must
// name the file, and what it accepts must be consistent (every template has its file recorded).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false}, "add_bos_token": true, "chat_template": "{{ messages }}"}`,
		`{"chat_template": [{"name": "default", "template": "a"}, {"name": "tool_use", "template": "b"}]}`,
		`{"chat_template": [{"name": null}], "pad_token": null, "add_eos_token": "yes"}`,
		`{"unk_token": 3, "chat_template": 7}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz/tokenizer_config.json")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz/tokenizer_config.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for name := range c.Templates {
			if c.TemplateFiles[name] == "" {
				t.Fatalf("template %q without its file", name)
			}
		}
	})
}
