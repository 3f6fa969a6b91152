package data

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// Fake tokenizers: one token per rune (its code point), BOS = 1 with special tokens, EOS = 2, and
// optionally the pair "ab" merged into one token (1000) to put a token across a boundary.
const (
	fakeBOS   = 1
	fakeEOS   = 2
	fakeMerge = 1000
)

type fakeTok struct{ merge bool }

func (f fakeTok) Encode(text string, addSpecial bool) ([]int32, error) {
	var ids []int32
	if addSpecial {
		ids = append(ids, fakeBOS)
	}
	for i, r := range text {
		if f.merge && strings.HasPrefix(text[i:], "ab") {
			ids = append(ids, fakeMerge)
			continue
		}
		if f.merge && r == 'b' && i > 0 && text[i-1] == 'a' {
			continue
		}
		ids = append(ids, int32(r))
	}
	return ids, nil
}

func (fakeTok) BOS() (int32, bool) { return fakeBOS, true }
func (fakeTok) EOS() (int32, bool) { return fakeEOS, true }
func (fakeTok) IDToToken(id int32) (string, bool) {
	switch id {
	case fakeBOS:
		return "<s>", true
	case fakeEOS:
		return "</s>", true
	}
	return "", false
}

// runes is the fake tokenizer's ids of s.
func runes(s string) []int32 {
	ids, _ := fakeTok{}.Encode(s, false)
	return ids
}

func cat(parts ...[]int32) []int32 {
	var out []int32
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ignored(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = IgnoreIndex
	}
	return out
}

func parseOne(t *testing.T, line string, opt Options) Example {
	t.Helper()
	exs, err := Parse(strings.NewReader(line), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 1 {
		t.Fatalf("%d examples", len(exs))
	}
	return exs[0]
}

func TestPromptCompletionLabels(t *testing.T) {
	ex := parseOne(t, `{"prompt": "Q: hi\n", "completion": "A: yo"}`, Options{Encoder: fakeTok{}})
	wantIDs := cat([]int32{fakeBOS}, runes("Q: hi\nA: yo"), []int32{fakeEOS})
	wantLabels := cat(ignored(1+len("Q: hi\n")), runes("A: yo"), []int32{fakeEOS})
	if ex.Kind != KindCompletion || !reflect.DeepEqual(ex.IDs, wantIDs) || !reflect.DeepEqual(ex.Labels, wantLabels) {
		t.Fatalf("got %v\nids %v\nlabels %v\nwant ids %v\nlabels %v", ex.Kind, ex.IDs, ex.Labels, wantIDs, wantLabels)
	}
	// Without an EOS the ids end with the completion.
	ex = parseOne(t, `{"prompt": "", "completion": "z"}`, Options{Encoder: fakeEncoder{}})
	if !reflect.DeepEqual(ex.IDs, []int32{1, 'z'}) || !reflect.DeepEqual(ex.Labels, []int32{IgnoreIndex, 'z'}) {
		t.Fatalf("empty prompt: ids %v labels %v", ex.IDs, ex.Labels)
	}
}

// TestPromptCompletionMergedBoundary: "xa"+"by" tokenises as x|ab|y; the merged token holds the
// completion's first byte, so it is learned, and the ids are those of the concatenation.
func TestPromptCompletionMergedBoundary(t *testing.T) {
	ex := parseOne(t, `{"prompt": "xa", "completion": "by"}`, Options{Encoder: fakeTok{merge: true}})
	if want := []int32{fakeBOS, 'x', fakeMerge, 'y', fakeEOS}; !reflect.DeepEqual(ex.IDs, want) {
		t.Fatalf("ids %v, want %v", ex.IDs, want)
	}
	if want := []int32{IgnoreIndex, IgnoreIndex, fakeMerge, 'y', fakeEOS}; !reflect.DeepEqual(ex.Labels, want) {
		t.Fatalf("labels %v, want %v", ex.Labels, want)
	}
}

// TestChatFallbackLabels: with no chat template the fallback writes
// bos "<|role|>\n" content eos "\n" per message and learns the assistant's content and eos.
func TestChatFallbackLabels(t *testing.T) {
	var notes []string
	in := `{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "and?"}, {"role": "assistant", "content": "ok"}]}
{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]}`
	exs, err := Parse(strings.NewReader(in), Options{Encoder: fakeTok{}, Warn: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "no chat template") {
		t.Fatalf("notes %q, want one about the fallback template", notes)
	}
	text := "<s><|system|>\nS</s>\n<|user|>\nhi</s>\n<|assistant|>\nyo</s>\n<|user|>\nand?</s>\n<|assistant|>\nok</s>\n"
	ex := exs[0]
	if ex.Kind != KindChat || !reflect.DeepEqual(ex.IDs, runes(text)) {
		t.Fatalf("ids %v, want the runes of %q", ex.IDs, text)
	}
	if got := learnedText(ex); !reflect.DeepEqual(got, []string{"yo</s>", "ok</s>"}) {
		t.Fatalf("learned %q", got)
	}
	// Exactly these positions are learned, each with its own id as label.
	for i, l := range ex.Labels {
		if l != IgnoreIndex && l != ex.IDs[i] {
			t.Fatalf("label %d = %d, id %d", i, l, ex.IDs[i])
		}
	}
}

// learnedText returns the runs of learned positions of a fake-tokenised example as text.
func learnedText(ex Example) []string {
	var runs []string
	var cur []rune
	for i, l := range ex.Labels {
		if l != IgnoreIndex {
			cur = append(cur, rune(ex.IDs[i]))
			continue
		}
		if cur != nil {
			runs = append(runs, string(cur))
			cur = nil
		}
	}
	if cur != nil {
		runs = append(runs, string(cur))
	}
	return runs
}

// chatML is a ChatML template without generation marks, so spans come from prefix renderings.
const chatML = `{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}` +
	`{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`

func TestChatPrefixSpans(t *testing.T) {
	tmpl, err := NewChatTemplate("chatml", chatML, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := parseOne(t, `{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "x"}, {"role": "assistant", "content": "ab"}]}`,
		Options{Encoder: fakeTok{}, Chat: tmpl})
	if got := learnedText(ex); !reflect.DeepEqual(got, []string{"yo<|im_end|>\n", "ab<|im_end|>\n"}) {
		t.Fatalf("learned %q", got)
	}
	// Generation marks give the spans directly (here without the newline).
	marked := strings.Replace(chatML, `{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}`,
		`{{ '<|im_start|>' + m['role'] + '\n' }}{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] + '<|im_end|>' }}{% endgeneration %}{% else %}{{ m['content'] + '<|im_end|>' }}{% endif %}{{ '\n' }}`, 1)
	tmpl, err = NewChatTemplate("chatml-marked", marked, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex2 := parseOne(t, `{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "x"}, {"role": "assistant", "content": "ab"}]}`,
		Options{Encoder: fakeTok{}, Chat: tmpl})
	if !reflect.DeepEqual(ex2.IDs, ex.IDs) {
		t.Fatalf("the marks changed the text: %v vs %v", ex2.IDs, ex.IDs)
	}
	if got := learnedText(ex2); !reflect.DeepEqual(got, []string{"yo<|im_end|>", "ab<|im_end|>"}) {
		t.Fatalf("learned %q", got)
	}
}

// TestChatTurnRewrittenLater: a template that writes earlier assistant turns differently (like
// Qwen3 dropping old reasoning) still gets the turn as the whole conversation shows it.
func TestChatTurnRewrittenLater(t *testing.T) {
	src := `{% for m in messages %}{{ '<' + m['role'] + '>' }}{% if m['role'] == 'assistant' and not loop.last %}` +
		`{{ m['content'].split('|')[-1] }}{% else %}{{ m['content'] }}{% endif %}{{ '</>' }}{% endfor %}` +
		`{% if add_generation_prompt %}{{ '<assistant>' }}{% endif %}`
	tmpl, err := NewChatTemplate("rewrite", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := parseOne(t, `{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "think|A"}, {"role": "user", "content": "r"}, {"role": "assistant", "content": "why|B"}]}`,
		Options{Encoder: fakeTok{}, Chat: tmpl})
	if got := learnedText(ex); !reflect.DeepEqual(got, []string{"A</>", "why|B</>"}) {
		t.Fatalf("learned %q", got)
	}
}

func TestChatTemplateErrorsNameTheTemplate(t *testing.T) {
	if _, err := NewChatTemplate("bad.jinja", "{% if x %}", nil); err == nil || !strings.Contains(err.Error(), "bad.jinja") {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := NewChatTemplate("open.jinja", "{{ x ", nil); err == nil || !strings.Contains(err.Error(), "open.jinja") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("unclosed tag: %v", err)
	}
	if _, err := NewChatTemplate("for.jinja", "{# a\ncomment #}\n  {%- if true -%}\n\n{% for %}{% endfor %}{% endif %}", nil); err == nil || !strings.Contains(err.Error(), "for.jinja") || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("error on line 5: %v", err)
	}
	if _, err := NewChatTemplate("empty.jinja", " \n", nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty template: %v", err)
	}
	// The engine panics on a negative repeat count; the panic comes back as an error.
	tmpl, err := NewChatTemplate("panics.jinja", "{{ 'a' * -1 }}", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(strings.NewReader(`{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}`), Options{Encoder: fakeTok{}, Chat: tmpl})
	if err == nil || !strings.Contains(err.Error(), "panics.jinja") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("engine panic: %v", err)
	}
	// raise_exception in the template names the line of the data.
	raw, err := NewChatTemplate("strict.jinja", `{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}{{ m['content'] }}{% endfor %}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := `{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}` + "\n" +
		`{"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}]}`
	if _, err := Parse(strings.NewReader(in), Options{Encoder: fakeTok{}, Chat: raw}); err == nil ||
		!strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "no system role") {
		t.Errorf("raise_exception: %v", err)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	cases := map[string]string{
		`{"prompt": "p"}`:                                   `line 1: "prompt" needs "completion"`,
		`{"completion": "c"}`:                               `line 1: "completion" needs "prompt"`,
		`{"prompt": "p", "completion": ""}`:                 `line 1: "completion" is empty`,
		`{"prompt": 1, "completion": "c"}`:                  `line 1: invalid JSON: "prompt" must be a string`,
		`{"prompt": [{"role": "user"}], "completion": "c"}`: `use {"messages"`,
		`{"text": "a", "prompt": "p", "completion": "c"}`:   `line 1: both "text" and "prompt"`,
		`{"messages": []}`:                                  `line 1: "messages" is empty`,
		`{"messages": {"role": "user"}}`:                    `line 1: "messages" must be a list`,
		`{"messages": [1]}`:                                 `line 1: messages[0] must be an object`,
		`{"messages": [{"content": "x"}]}`:                  `line 1: messages[0] needs a "role"`,
		`{"messages": [{"role": "user"}]}`:                  `line 1: messages[0] (user) needs a "content"`,
		`{"messages": [{"role": "user", "content": 5}]}`:    `line 1: messages[0] (user): "content" must be a string`,
		`{"messages": [{"role": "user", "content": "q"}]}`:  `line 1: "messages" has no assistant message`,
		`{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]}`: `line 1: messages[1]: the assistant's "content" is empty`,
		`{"messages": [{"role": "assistant", "content": "a"}], "tools": 3}`:                      `line 1: "tools" must be a list`,
		"{\"text\": \"a\"}\n[1, 2]":       "line 2: invalid JSON",
		"null":                            "line 1: invalid JSON: the line is null",
		`{"text": "a", "messages": []}`:   `both "text" and "messages"`,
		`{"input_ids": [1], "text": "a"}`: `both "text" and "input_ids"`,
	}
	for in, want := range cases {
		_, err := Parse(strings.NewReader(in), Options{Encoder: fakeTok{}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("input %q: error %v, want it to contain %q", in, err, want)
		}
	}
	if _, err := Parse(strings.NewReader(`{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}`), Options{}); err == nil || !strings.Contains(err.Error(), "tokenizer") {
		t.Errorf("messages without tokenizer: %v", err)
	}
	if _, err := Parse(strings.NewReader(`{"prompt": "q", "completion": "a"}`), Options{}); err == nil || !strings.Contains(err.Error(), "tokenizer") {
		t.Errorf("prompt without tokenizer: %v", err)
	}
}

func TestParseSkipsEmptyTextAndIgnoresExtraKeys(t *testing.T) {
	var notes []string
	in := "\xef\xbb\xbf{\"text\": \"\"}\n{\"text\": \"a\", \"id\": 7, \"meta\": {\"src\": \"x\"}}\n{\"text\": \"\"}\n"
	exs, err := Parse(strings.NewReader(in), Options{Encoder: fakeTok{}, Warn: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 1 || !reflect.DeepEqual(exs[0].IDs, []int32{fakeBOS, 'a'}) {
		t.Fatalf("examples %v", exs)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "skipped 2") {
		t.Fatalf("notes %q", notes)
	}
}

// TestMixedFile reads every shape from one file, in order.
func TestMixedFile(t *testing.T) {
	in := `{"text": "t"}
{"prompt": "p", "completion": "c"}
{"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}
{"input_ids": [3, 4]}`
	exs, err := Parse(strings.NewReader(in), Options{Encoder: fakeTok{}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for _, ex := range exs {
		kinds = append(kinds, ex.Kind)
	}
	if want := []Kind{KindText, KindCompletion, KindChat, KindTokens}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
}

// TestChatSpanBoundaryInsideToken: with "ab" merged into one token, a token that holds the first
// or the last byte of an assistant turn is learned.
func TestChatSpanBoundaryInsideToken(t *testing.T) {
	tmpl, err := NewChatTemplate("bare", `{% for m in messages %}{{ m['content'] }}{% endfor %}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Encoder: fakeTok{merge: true}, Chat: tmpl}
	// "q" + "za" + "bq": tokens q z AB q; the turn "za" ends inside AB.
	ex := parseOne(t, `{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "za"}, {"role": "user", "content": "bq"}]}`, opt)
	if want := []int32{'q', 'z', fakeMerge, 'q'}; !reflect.DeepEqual(ex.IDs, want) {
		t.Fatalf("ids %v, want %v", ex.IDs, want)
	}
	if want := []int32{IgnoreIndex, 'z', fakeMerge, IgnoreIndex}; !reflect.DeepEqual(ex.Labels, want) {
		t.Fatalf("labels %v, want %v", ex.Labels, want)
	}
	// "xa" + "bc": tokens x AB c; the turn "bc" starts inside AB.
	ex = parseOne(t, `{"messages": [{"role": "user", "content": "xa"}, {"role": "assistant", "content": "bc"}]}`, opt)
	if want := []int32{IgnoreIndex, fakeMerge, 'c'}; !reflect.DeepEqual(ex.Labels, want) {
		t.Fatalf("labels %v, want %v", ex.Labels, want)
	}
}

// TestChatTemplateThatAlwaysPrompts: a template that writes the generation prompt whatever
// add_generation_prompt says (an early Llama 3 one) cannot delimit the turns; that is an error,
// not a span that learns the next header.
func TestChatTemplateThatAlwaysPrompts(t *testing.T) {
	tmpl, err := NewChatTemplate("always", `{% for m in messages %}{{ '<h>' + m['role'] + '</h>' + m['content'] + '<eot>' }}{% endfor %}{{ '<h>assistant</h>' }}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}`,
		`{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "r"}]}`,
	} {
		_, err := Parse(strings.NewReader(line), Options{Encoder: fakeTok{}, Chat: tmpl})
		if err == nil || !strings.Contains(err.Error(), "add_generation_prompt") {
			t.Errorf("%s: %v", line, err)
		}
	}
	// Mistral's layout ignores add_generation_prompt too, but writes no prompt: fine.
	raw, err := os.ReadFile("testdata/chat/mistral.jinja")
	if err != nil {
		t.Fatal(err)
	}
	mistral, err := NewChatTemplate("mistral.jinja", string(raw), map[string]string{"bos_token": "<s>", "eos_token": "</s>"})
	if err != nil {
		t.Fatal(err)
	}
	ex := parseOne(t, `{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "r"}, {"role": "assistant", "content": "b"}]}`,
		Options{Encoder: fakeTok{}, Chat: mistral})
	if got := learnedText(ex); !reflect.DeepEqual(got, []string{"a</s>", "b</s>"}) {
		t.Fatalf("mistral learned %q", got)
	}
}

// TestFixtureTemplateSpans: the assistant turns that each family's layout makes learnable.
func TestFixtureTemplateSpans(t *testing.T) {
	line := `{"messages": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "Go"}, {"role": "assistant", "content": "Bye."}]}`
	for name, want := range map[string][]string{
		"qwen25-chatml.jinja": {"Hi.<|im_end|>\n", "Bye.<|im_end|>\n"},
		"llama31.jinja":       {"Hi.<|eot_id|>", "Bye.<|eot_id|>"},
		"zephyr.jinja":        {"Hi.</s>\n", "Bye.</s>\n"},
		"gemma.jinja":         {"Hi.<end_of_turn>\n", "Bye.<end_of_turn>\n"},
		"mistral.jinja":       {"Hi.</s>", "Bye.</s>"},
	} {
		raw, err := os.ReadFile("testdata/chat/" + name)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := NewChatTemplate(name, string(raw), map[string]string{"bos_token": "<s>", "eos_token": "</s>"})
		if err != nil {
			t.Fatal(err)
		}
		ex := parseOne(t, line, Options{Encoder: fakeTok{}, Chat: tmpl})
		if got := learnedText(ex); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: learned %q, want %q", name, got, want)
		}
	}
}
