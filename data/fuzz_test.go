package data

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary JSONL to the parser (with the fallback chat template and a ChatML
// template without marks): it must never panic, and what it accepts must be well-formed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"text": "hello"}`,
		`{"prompt": "p", "completion": "c"}`,
		`{"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}`,
		`{"messages": [{"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f"}}]}], "tools": [{"a": 1}]}`,
		`{"input_ids": [1, 2], "labels": [-100, 2]}`,
		"{\"text\": \"a\"}\n\n{\"input_ids\": [3]}\n",
		`{"text": ""}`,
		`{"messages": [{"role": "user", "content": "{{ x }}"}, {"role": "assistant", "content": "\u0000eva:generation\u0001"}]}`,
		"\xef\xbb\xbf{\"prompt\": \"ab\", \"completion\": \"b\"}",
	} {
		f.Add([]byte(s), false)
	}
	chatml, err := NewChatTemplate("chatml", chatML, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte, useChatML bool) {
		opt := Options{Encoder: fakeTok{merge: true}}
		if useChatML {
			opt.Chat = chatml
		}
		exs, err := Parse(bytes.NewReader(in), opt)
		if err != nil {
			if !strings.Contains(err.Error(), "line ") && !strings.Contains(err.Error(), "no examples") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for i, ex := range exs {
			if len(ex.IDs) == 0 {
				t.Fatalf("example %d has no ids", i)
			}
			if ex.Labels != nil && len(ex.Labels) != len(ex.IDs) {
				t.Fatalf("example %d: %d labels for %d ids", i, len(ex.Labels), len(ex.IDs))
			}
			if ex.Kind == KindCompletion || ex.Kind == KindChat {
				learned := 0
				for j, l := range ex.Labels {
					if l != IgnoreIndex {
						if l != ex.IDs[j] {
							t.Fatalf("example %d: label %d is %d, id %d", i, j, l, ex.IDs[j])
						}
						learned++
					}
				}
				if learned == 0 {
					t.Fatalf("example %d (%v) learns nothing", i, ex.Kind)
				}
			}
		}
	})
}

// FuzzChatTemplate compiles arbitrary chat templates (a tokenizer_config.json's chat_template is a
// file a user hands us) and renders a short conversation with them: compiling and rendering must
// never panic, and a template that renders must give the assistant spans inside the text.
func FuzzChatTemplate(f *testing.F) {
	for _, s := range []string{
		chatML,
		`{% for m in messages %}{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}{% endgeneration %}{% else %}{{ m['content'] }}{% endif %}{% endfor %}`,
		`{{ bos_token }}{% for m in messages %}[{{ m.role | upper }}] {{ m.content | trim }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[ASSISTANT]{% endif %}`,
		`{% set x = messages | length %}{% for i in range(x) %}{{ messages[i]['content'] ~ loop.index }}{% endfor %}`,
		`{{ raise_exception('no') }}`,
		`{% for m in messages %}{{ m['content'][::-1] }}{% endfor %}`,
	} {
		f.Add(s, "hi", "yes")
	}
	f.Fuzz(func(t *testing.T, src, user, assistant string) {
		tmpl, err := NewChatTemplate("fuzz", src, map[string]string{"bos_token": "<s>", "eos_token": "</s>"})
		if err != nil {
			return
		}
		conv, err := NewConversation(Message{Role: "user", Content: user}, Message{Role: "assistant", Content: assistant})
		if err != nil {
			return
		}
		if _, err := tmpl.Render(conv, true); err != nil {
			return
		}
		text, spans, err := tmpl.AssistantSpans(conv)
		if err != nil {
			return
		}
		for _, s := range spans {
			if s.Start < 0 || s.Start > s.End || s.End > len(text) {
				t.Fatalf("span %+v outside the %d-byte rendering", s, len(text))
			}
		}
	})
}
