package bpetrain

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCountJSONL(t *testing.T) {
	a := writeFile(t, "a.jsonl", `{"text": "Hello, world! Hello"}`+"\n\n"+`{"text": "über  alles\n", "id": 3}`+"\n")
	b := writeFile(t, "b.jsonl", `{"text": "world"}`) // no final newline
	wc, err := CountJSONL([]string{a, b}, ReadOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := countOf("Hello, world! Hello", "über  alles\n", "world")
	if !maps.Equal(wc.Counts, want.Counts) || wc.Texts != 3 || wc.Chars != want.Chars || wc.Bytes != want.Bytes {
		t.Fatalf("counts %v (%d texts, %d chars), want %v (%d chars)", wc.Counts, wc.Texts, wc.Chars, want.Counts, want.Chars)
	}
	if wc.Counts["Hello"] != 1 || wc.Counts[" Hello"] != 1 || wc.Counts[" world"] != 1 || wc.Counts["world"] != 1 {
		t.Errorf("counts %v", wc.Counts)
	}
	// MaxChars cuts the text that crosses the limit and stops.
	wc, err = CountJSONL([]string{a, b}, ReadOptions{MaxChars: 22})
	if err != nil {
		t.Fatal(err)
	}
	if cut := countOf("Hello, world! Hello", "übe"); !maps.Equal(wc.Counts, cut.Counts) || wc.Chars != 22 || wc.Texts != 2 {
		t.Errorf("max chars 22: %v, %d chars", wc.Counts, wc.Chars)
	}
}

func TestCountJSONLErrors(t *testing.T) {
	for _, c := range []struct{ content, want string }{
		{"{\"text\": \"ok\"}\n{\"prompt\": \"x\"}\n", `bad.jsonl:2: no "text" string`},
		{"\n\n{\"text\": 5}\n", "bad.jsonl:3: not a JSON object"},
		{"{\"text\": \"ok\"}\nnot json\n", "bad.jsonl:2: not a JSON object"},
		{"\n\n", "no text lines"},
	} {
		p := writeFile(t, "bad.jsonl", c.content)
		_, err := CountJSONL([]string{p}, ReadOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.content, err, c.want)
		}
	}
	if _, err := CountJSONL([]string{filepath.Join(t.TempDir(), "missing.jsonl")}, ReadOptions{}); err == nil {
		t.Error("missing file: no error")
	}
}
