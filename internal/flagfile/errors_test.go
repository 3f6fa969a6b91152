package flagfile

import (
	"errors"
	"strings"
	"testing"
)

// TestErrors checks every error case: the message names the file, the line and the key, and says
// what was expected; nothing is set when the file has an error.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		line          int
		key           string
		want          []string // substrings of the message
	}{
		{"near.yaml", "model: x\nbatchsize: 3\n", 2, "batchsize", []string{`unknown flag; did you mean "batch-size"?`}},
		{"near.json", "{\"model\": \"x\",\n \"Alhpa\": 3}", 2, "Alhpa", []string{`did you mean "alpha"?`}},
		{"far.yaml", "learning-rate: 3\n", 1, "learning-rate", []string{"unknown flag; the flags are alpha, batch-size, model,", "whiten"}},
		{"list-int.yaml", "r:\n  - 1\n  - 2\n", 2, "r", []string{"expected an integer for flag -r, found a list"}},
		{"list-int.json", `{"r": [1, 2]}`, 1, "r", []string{"expected an integer", "found a list"}},
		{"abc-float.yaml", "\n\nalpha: abc\n", 3, "alpha", []string{`expected a number for flag -alpha, found a string ("abc")`}},
		{"abc-float.json", "{\n\"alpha\": \"abc\"}", 2, "alpha", []string{`expected a number`, `found a string ("abc")`}},
		{"float-int.yaml", "r: 4.5\n", 1, "r", []string{`expected an integer for flag -r, found a float ("4.5")`}},
		{"float-int2.yaml", "r: 4.0\n", 1, "r", []string{`expected an integer`, `a float ("4.0")`}},
		{"float-int.json", `{"r": 4.0}`, 1, "r", []string{`expected an integer`, `a float ("4.0")`}},
		{"exp-int.json", `{"r": 1e3}`, 1, "r", []string{`a float ("1e3")`}},
		{"str-int.yaml", "r: \"4\"\n", 1, "r", []string{`expected an integer`, `a string ("4")`}},
		{"yes-bool.yaml", "whiten: yes\n", 1, "whiten", []string{`expected a boolean (true or false) for flag -whiten, found a string ("yes")`}},
		{"int-bool.yaml", "whiten: 1\n", 1, "whiten", []string{`expected a boolean`, `an integer ("1")`}},
		{"str-bool.json", `{"whiten": "true"}`, 1, "whiten", []string{`expected a boolean`, `a string ("true")`}},
		{"boolfunc.yaml", "verbose: on\n", 1, "verbose", []string{`expected a boolean`}},
		{"neg-uint.yaml", "seed: -1\n", 1, "seed", []string{`expected a non-negative integer for flag -seed`}},
		{"dur.yaml", "timeout: 1.5\n", 1, "timeout", []string{`expected a duration`}},
		{"null.yaml", "model:\n", 1, "model", []string{"no value; expected a string"}},
		{"null.json", `{"r": null}`, 1, "r", []string{"no value; expected an integer"}},
		{"nested.yaml", "r:\n  a: 1\n", 2, "r", []string{"nested maps are not supported"}},
		{"nested.json", `{"model": {"a": [1, {"b": 2}]}}`, 1, "model", []string{"nested maps are not supported"}},
		{"nested-list.yaml", "targets: [a, [b]]\n", 1, "targets", []string{"item 2 of the list: expected a scalar", "found a list"}},
		{"null-item.json", `{"tag": ["a", null]}`, 1, "tag", []string{"item 2 of the list", "found null"}},
		{"dup.yaml", "r: 1\nalpha: 2\nr: 3\n", 3, "r", []string{`duplicate: flag -r is already set by key "r" on line 1`}},
		{"dup.json", "{\"r\": 1,\n\"r\": 3}", 2, "r", []string{`duplicate: flag -r is already set by key "r" on line 1`}},
		{"dup-forms.yaml", "batch-size: 1\nbatch_size: 3\n", 2, "batch_size", []string{`duplicate: flag -batch-size`, `key "batch-size" on line 1`}},
		{"config.yaml", "config: other.yaml\n", 1, "config", []string{"cannot name another config file"}},
		{"merge.yaml", "base: &b {r: 1}\n<<: *b\n", 2, "<<", []string{"merge keys are not supported"}},
		{"set.yaml", "tag: [ok, bad]\n", 1, "tag", []string{`invalid value "bad" for flag -tag: tag rejected`}},
		{"range.json", `{"r": 99999999999999999999}`, 1, "r", []string{`invalid value "99999999999999999999" for flag -r`, "out of range"}},
		{"range.yaml", "r: 99999999999999999999\n", 1, "r", []string{`expected an integer`, "a float"}},
		{"duration.yaml", "timeout: soon\n", 1, "timeout", []string{`invalid value "soon" for flag -timeout`}},
		{"top-list.yaml", "- r\n- 3\n", 1, "", []string{"must be a map of flag names to values, found a list"}},
		{"top-scalar.json", "\n3", 2, "", []string{"must be an object", "found an integer"}},
		{"key-list.yaml", "[a]: 1\n", 1, "", []string{"a key must be a flag name, found a list"}},
		// Parser errors (the line of the unclosed collection or of the problem) and scanner errors.
		{"flow.yaml", "r: 1\nalpha: [1, 2\nmodel: x\n", 2, "", []string{"invalid YAML: did not find expected ',' or ']'"}},
		{"flow2.yaml", "r: 1\n\n\nalpha: {a: 1\n", 4, "", []string{"invalid YAML: did not find expected ',' or '}'"}},
		{"flow1.yaml", "alpha: [1, 2", 1, "", []string{"invalid YAML: did not find expected ',' or ']'"}},
		{"key.yaml", "r: 1\n\n- b\n", 3, "", []string{"invalid YAML: did not find expected key"}},
		{"dash.yaml", "- b\nr: 1\n", 2, "", []string{"invalid YAML: did not find expected '-' indicator"}},
		{"colon.yaml", "r: 1\nb: c: d\n", 2, "", []string{"invalid YAML: mapping values are not allowed"}},
		{"quote.yaml", "r: 1\n\nb: \"abc\n", 3, "", []string{"invalid YAML: found unexpected end of stream"}},
		{"tab.yaml", "r: 1\n\tmodel: x\n", 2, "", []string{"invalid YAML"}},
		{"syntax.json", "{\"r\": 1,\n\"alpha\" 2}", 2, "", []string{"invalid JSON: invalid character '2'"}},
		{"eof.json", "{\"r\": 1,\n", 2, "", []string{"invalid JSON: unexpected end of file"}},
		{"trailing.json", "{\"r\": 1}\n{}", 2, "", []string{"unexpected { after the top-level object"}},
		{"yaml-as.json", "r: 1\n", 1, "", []string{"invalid JSON"}},
		{"two-docs.yaml", "r: 1\n---\nalpha: 2\n", 2, "", []string{"one YAML document, found a second"}},
		{"sniff-bad", "{\"r\": 1,,}", 1, "", []string{"invalid JSON"}},
	} {
		fs, o := newFS(t)
		path := write(t, tc.name, tc.content)
		err := Apply(fs, path)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		msg := err.Error()
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: %T is not an *Error: %v", tc.name, err, err)
			continue
		}
		if fe.File != path || fe.Line != tc.line || fe.Key != tc.key {
			t.Errorf("%s: got file %q line %d key %q, want line %d key %q (%s)", tc.name, fe.File, fe.Line, fe.Key, tc.line, tc.key, msg)
		}
		if !strings.HasPrefix(msg, path+":") {
			t.Errorf("%s: message does not start with the file name: %s", tc.name, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message lacks %q: %s", tc.name, w, msg)
			}
		}
		setErr := tc.name == "set.yaml" || tc.name == "range.json" || tc.name == "duration.yaml"
		if !setErr && (o.r != 16 || o.model != "" || o.alpha != 1 || o.tags != nil) {
			t.Errorf("%s: flags were set despite the error: %+v", tc.name, *o)
		}
	}
}

func TestSetErrorUnwraps(t *testing.T) {
	fs, _ := newFS(t)
	err := Apply(fs, write(t, "c.yaml", "tag: bad\n"))
	if !errors.Is(err, errRejected) {
		t.Fatalf("err = %v, want it to wrap the flag's own error", err)
	}
}

// TestAllProblemsReported checks that every bad key is reported, each with its own line, and that
// the good keys of a bad file are not applied.
func TestAllProblemsReported(t *testing.T) {
	fs, o := newFS(t)
	path := write(t, "c.yaml", "model: ok\n# comment\n\nr: x\nalpha: 2\nwhitten: true\n")
	err := Apply(fs, path)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{path + `:4: key "r": expected an integer`, path + `:6: key "whitten": unknown flag; did you mean "whiten"?`}
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if o.model != "" || o.alpha != 1 {
		t.Errorf("good keys of a bad file were applied: %+v", *o)
	}
}

// TestExplicitFlagStillChecked: a key for a flag given on the command line is not applied but must
// still be valid, so a file is valid or not regardless of the command line.
func TestExplicitFlagStillChecked(t *testing.T) {
	fs, _ := newFS(t)
	cfg := write(t, "c.yaml", "r: 1.5\n")
	if err := Load(fs, []string{"-r", "3", "-config", cfg}); err == nil {
		t.Fatal("a bad value for an explicit flag was accepted")
	}
}

// TestDeepNesting: deeply nested input is rejected in linear time (no recursion, lines counted
// incrementally).
func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 1<<20)
	for _, tc := range []struct{ name, content, want string }{
		{"d.json", `{"tag": ` + deep, "unexpected end of file"},
		{"d2.json", `{"r": ` + deep + strings.Repeat("]", 1<<20) + "}", "expected an integer"},
		{"d.yaml", "tag: " + deep, "exceeded max depth"},
	} {
		fs, _ := newFS(t)
		err := Apply(fs, write(t, tc.name, tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
