package data

import (
	"strings"
	"testing"
)

// renderOnce compiles src and renders a one-turn conversation with it.
func renderOnce(src string) (string, error) {
	tmpl, err := NewChatTemplate("guard", src, nil)
	if err != nil {
		return "", err
	}
	conv, err := NewConversation(Message{Role: "user", Content: "u"}, Message{Role: "assistant", Content: "a"})
	if err != nil {
		return "", err
	}
	return tmpl.Render(conv, false)
}

// TestChatTemplateRange: range() follows Python (one to three integer arguments, negative steps,
// empty ranges) up to Jinja2's sandbox limit of 100,000 items, past which it is an error instead of
// a loop that would not end.
func TestChatTemplateRange(t *testing.T) {
	for src, want := range map[string]string{
		`{% for i in range(3) %}{{ i }}{% endfor %}`:          "012",
		`{% for i in range(1, 10, 4) %}{{ i }}{% endfor %}`:   "159",
		`{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}`:   "531",
		`{% for i in range(4, 2) %}{{ i }}{% endfor %}.`:      ".",
		`{{ range(100000) | length }}`:                        "100000",
		`{% for m in messages %}{{ loop.index }}{% endfor %}`: "12",
	} {
		if got, err := renderOnce(src); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", src, got, err, want)
		}
	}
	for src, want := range map[string]string{
		`{% for i in range(100000000000) %}x{% endfor %}`: "more than 100000",
		`{{ range(-5, 100000, 1) | length }}`:             "more than 100000",
		`{{ range('3') }}`:                                "not an integer",
		`{{ range(1, 2, 0) }}`:                            "step must not be zero",
	} {
		if _, err := renderOnce(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error with %q", src, err, want)
		}
	}
}

// TestChatTemplateMacroRecursion: a macro that calls itself, directly or through another, is
// refused when the template compiles (the template engine would overflow the Go stack, a fatal
// error); macros that call other macros, or names that merely contain a macro's name, are fine.
func TestChatTemplateMacroRecursion(t *testing.T) {
	for _, src := range []string{
		`{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}`,
		`{%- macro a(x) -%}{{ b(x) }}{%- endmacro -%}{% macro b(x) %}{{ a (x) }}{% endmacro %}{{ a(1) }}`,
	} {
		if _, err := NewChatTemplate("guard", src, nil); err == nil || !strings.Contains(err.Error(), "recursive macros are not supported") {
			t.Errorf("%s: %v", src, err)
		}
	}
	src := `{% macro wrap(x) %}[{{ x }}]{% endmacro %}{% macro turn(m) %}{{ wrap(m.content) }}{{ wrapped(1) }}{% endmacro %}` +
		`{% macro wrapped(x) %}{{ x }}{% endmacro %}{% for m in messages %}{{ turn(m) }}{% endfor %}`
	if got, err := renderOnce(src); err != nil || got != "[u]1[a]1" {
		t.Errorf("non-recursive macros: %q, %v", got, err)
	}
}
