package bpetrain

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// repoRoot finds the directory holding go.mod above the working directory.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// readJSON decodes a file under the repository root into v.
func readJSON(tb testing.TB, rel string, v any) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
}

// sharedTexts are hf/tokenizer's test texts: code, numbers, contractions, whitespace runs, accents,
// CJK, emoji, Arabic, special-token markers and prose.
func sharedTexts(tb testing.TB) []string {
	var texts []string
	readJSON(tb, "testdata/tokenizer/texts.json", &texts)
	return texts
}

// countOf counts texts on one goroutine.
func countOf(texts ...string) *WordCounts {
	wc := NewWordCounts()
	for _, t := range texts {
		wc.AddText(t)
	}
	return wc
}
