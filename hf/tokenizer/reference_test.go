package tokenizer

import (
	"fmt"
	"slices"
	"testing"
)

// TestReference compares every encoding and decoding with Hugging Face tokenizers' output
// (testdata/tokenizer/reference.json, from scripts/tokenizer_ref.py).
func TestReference(t *testing.T) {
	ref, texts := loadReference(t)
	if len(ref.Tokenizers) == 0 {
		t.Fatal("reference.json lists no tokenizers")
	}
	for _, rt := range ref.Tokenizers {
		t.Run(rt.Name, func(t *testing.T) {
			tok := refTokenizerFor(t, rt)
			if got := tok.VocabSize(); got != rt.VocabSize {
				t.Errorf("VocabSize() = %d, want %d", got, rt.VocabSize)
			}
			for _, c := range rt.Cases {
				text := texts[c.Text]
				want := c.IDsSpecial
				if want == nil {
					want = c.IDs
				}
				checkIDs(t, tok, fmt.Sprintf("Encode(texts[%d], false)", c.Text), tok.Encode(text, false), c.IDs)
				checkIDs(t, tok, fmt.Sprintf("Encode(texts[%d], true)", c.Text), tok.Encode(text, true), want)
				if got := tok.Decode(want, false); got != c.Decoded {
					t.Errorf("Decode(ids of texts[%d], false) = %q, want %q", c.Text, got, c.Decoded)
				}
				if got := tok.Decode(want, true); got != c.DecodedSkip {
					t.Errorf("Decode(ids of texts[%d], true) = %q, want %q", c.Text, got, c.DecodedSkip)
				}
				if got := tok.Decode(c.IDs[:len(c.IDs)/2], false); got != c.DecodedHalf {
					t.Errorf("Decode(first half of ids of texts[%d]) = %q, want %q", c.Text, got, c.DecodedHalf)
				}
			}
			for _, d := range rt.DecodeCases {
				if got := tok.Decode(d.IDs, d.Skip); got != d.Text {
					t.Errorf("Decode(%v, %v) = %q, want %q", d.IDs, d.Skip, got, d.Text)
				}
			}
		})
	}
}

// checkIDs reports the first difference between two id sequences with the tokens around it.
func checkIDs(t *testing.T, tok *Tokenizer, what string, got, want []int32) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	show := func(ids []int32) []string {
		lo, hi := max(0, i-2), min(len(ids), i+4)
		var out []string
		for _, id := range ids[lo:hi] {
			s, _ := tok.IDToToken(id)
			out = append(out, fmt.Sprintf("%d:%q", id, s))
		}
		return out
	}
	t.Errorf("%s: %d ids, want %d; first difference at %d: got %v, want %v", what, len(got), len(want), i, show(got), show(want))
}

// TestReferenceParts checks the normalizers and pre-tokenizers on their own against the reference;
// it needs only their JSON, so it runs for the real tokenizers even when their files are absent.
func TestReferenceParts(t *testing.T) {
	ref, texts := loadReference(t)
	for _, rt := range ref.Tokenizers {
		t.Run(rt.Name, func(t *testing.T) {
			norm, err := parseNormalizer(rt.Normalizer, "normalizer")
			if err != nil {
				t.Fatal(err)
			}
			pre, err := parsePreTokenizer(rt.PreTokenizer, "pre_tokenizer")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range rt.Cases {
				text := texts[c.Text]
				if c.Normalized != nil {
					if norm == nil {
						t.Fatal("reference has normalized text but the normalizer parsed to nil")
					}
					if got := norm.normalize(text); got != *c.Normalized {
						t.Errorf("normalize(texts[%d]) = %+q, want %+q", c.Text, got, *c.Normalized)
					}
					text = *c.Normalized
				}
				if c.Pre != nil {
					var got []string
					if text != "" {
						got = pre.preTokenize([]string{text})
					}
					if !slices.Equal(got, c.Pre) && !(len(got) == 0 && len(c.Pre) == 0) {
						t.Errorf("preTokenize(texts[%d]) =\n%q\nwant\n%q", c.Text, got, c.Pre)
					}
				}
			}
		})
	}
}
