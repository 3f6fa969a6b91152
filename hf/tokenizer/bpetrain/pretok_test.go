package bpetrain

import (
	"slices"
	"strings"
	"testing"
)

// TestSplitWordsMatchesHuggingFace compares SplitWords with the ByteLevel pre-tokenizer output that
// Hugging Face tokenizers 0.23.2 gave for GPT-2 (add_prefix_space false, use_regex true) on
// hf/tokenizer's test texts (testdata/tokenizer/reference.json).
func TestSplitWordsMatchesHuggingFace(t *testing.T) {
	texts := sharedTexts(t)
	var ref struct {
		Tokenizers []struct {
			Name  string `json:"name"`
			Cases []struct {
				Text int      `json:"text"`
				Pre  []string `json:"pre"`
			} `json:"cases"`
		} `json:"tokenizers"`
	}
	readJSON(t, "testdata/tokenizer/reference.json", &ref)
	checked := 0
	for _, tk := range ref.Tokenizers {
		if tk.Name != "gpt2" {
			continue
		}
		for _, c := range tk.Cases {
			var got []string
			SplitWords(texts[c.Text], func(w string) { got = append(got, ByteLevel(w)) })
			if !slices.Equal(got, c.Pre) && !(len(got) == 0 && len(c.Pre) == 0) {
				t.Errorf("text %d %q:\n got %q\nwant %q", c.Text, texts[c.Text], got, c.Pre)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d reference cases for gpt2", checked)
	}
}

func TestSplitWordsCases(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Hello, world!", []string{"Hello", ",", " world", "!"}},
		{"I'll say it's 42  ok\n\nyes  ", []string{"I", "'ll", " say", " it", "'s", " 42", " ", " ok", "\n", "\n", "yes", "  "}},
		{"a\tb", []string{"a", "\t", "b"}},
		{"x  \ty", []string{"x", "  ", "\t", "y"}},
		{"''s", []string{"''", "s"}},
		{"'sup", []string{"'s", "up"}},
		{"é😀 😀", []string{"é", "😀", " 😀"}},
		{"\xff\xfe ab", []string{"\xff\xfe", " ab"}},
	} {
		var got []string
		SplitWords(c.text, func(w string) { got = append(got, w) })
		if !slices.Equal(got, c.want) {
			t.Errorf("SplitWords(%q) = %q, want %q", c.text, got, c.want)
		}
		if strings.Join(got, "") != c.text {
			t.Errorf("SplitWords(%q) does not spell the text", c.text)
		}
	}
}

func TestByteLevel(t *testing.T) {
	if got := ByteLevel("a b\n\x00é"); got != "aĠbĊĀÃ©" {
		t.Errorf("ByteLevel = %q", got)
	}
	seen := map[rune]bool{}
	for b := range 256 {
		r := []rune(ByteLevel(string([]byte{byte(b)})))
		if len(r) != 1 || seen[r[0]] {
			t.Fatalf("byte %d maps to %q, not one new character", b, string(r))
		}
		seen[r[0]] = true
	}
}
