package datasets

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestNormSpace(t *testing.T) {
	cases := map[string]string{
		"  a \t b\n\n c  ":    "a b c",
		"x\u00a0y\u200bz\x00": "x yz",
		"":                    "",
	}
	for in, want := range cases {
		if got := normSpace(in); got != want {
			t.Errorf("normSpace(%q) = %q, want %q", in, got, want)
		}
	}
	if got := normLines(" a  b \n\n\n  c\n\n"); got != "a b\n\nc" {
		t.Errorf("normLines: %q", got)
	}
}

func TestSentences(t *testing.T) {
	got := sentences(`He came. "Why?" she asked! Mr. smith stayed. 3 went. The end`)
	want := []string{"He came.", `"Why?" she asked!`, "Mr. smith stayed.", "3 went.", "The end"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if strings.Join(got, " ") != `He came. "Why?" she asked! Mr. smith stayed. 3 went. The end` {
		t.Error("sentences lost text")
	}
}

// TestChunkBounds checks chunk's invariants on documents of many shapes: the words are kept in
// order, every chunk is at most chunkMax long, and only a document's single chunk may be shorter
// than chunkMin.
func TestChunkBounds(t *testing.T) {
	for _, shape := range []struct{ units, words int }{{1, 10}, {3, 30}, {40, 15}, {5, 600}, {200, 3}, {2, 2000}} {
		var units []string
		for u := 0; u < shape.units; u++ {
			var w []string
			for i := 0; i < shape.words; i++ {
				w = append(w, fmt.Sprintf("w%d_%d", u, i))
				if i%9 == 8 {
					w[len(w)-1] += "."
					if i+1 < shape.words {
						w = append(w, "And")
					}
				}
			}
			units = append(units, strings.Join(w, " "))
		}
		chunks := chunk(units, " ")
		if got, want := strings.Fields(strings.Join(chunks, " ")), strings.Fields(strings.Join(units, " ")); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: words changed", shape)
		}
		for i, c := range chunks {
			if n := runes(c); n > chunkMax || (n < chunkMin && len(chunks) > 1) {
				t.Errorf("%v: chunk %d of %d has %d characters", shape, i, len(chunks), n)
			}
		}
	}
}

func TestTruncateClip(t *testing.T) {
	s := "alpha beta gamma délta"
	for max := 0; max <= runes(s)+1; max++ {
		got := truncate(s, max)
		if runes(got) > max || !strings.HasPrefix(s, got) {
			t.Errorf("truncate(%d) = %q", max, got)
		}
		if got != s && got != "" && s[len(got)] != ' ' {
			t.Errorf("truncate(%d) = %q cuts inside a word", max, got)
		}
	}
	if got := clip("abcdefgh ij", 4); got != "abcd" {
		t.Errorf("clip of a long word = %q", got)
	}
	if got := toUTF8([]byte{'n', 'a', 0xef, 'v', 'e'}); got != "naïve" {
		t.Errorf("Latin-1: %q", got)
	}
}

func TestPassagesFitPrompts(t *testing.T) {
	units := sentences(strings.Repeat("A sentence of moderate length that goes on for a while. ", 80))
	ps := passages(units, " ")
	if len(ps) < 5 {
		t.Fatalf("%d passages", len(ps))
	}
	for _, p := range ps {
		if n := runes(p); n > passageMax || n < chunkMin {
			t.Errorf("passage of %d characters", n)
		}
	}
}
