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
