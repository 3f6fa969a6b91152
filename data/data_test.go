package data

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

type fakeEncoder struct{}

func (fakeEncoder) Encode(text string, addSpecial bool) ([]int32, error) {
	ids := []int32{}
	if addSpecial {
		ids = append(ids, 1)
	}
	for _, r := range text {
		ids = append(ids, int32(r))
	}
	return ids, nil
}

func TestParseJSONLShapes(t *testing.T) {
	in := `{"text": "ab"}

{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}
{"input_ids": [9]}
`
	exs, err := ParseJSONL(strings.NewReader(in), fakeEncoder{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{{IDs: []int32{1, 'a', 'b'}, Kind: KindText}, {IDs: []int32{5, 6, 7}, Labels: []int32{-100, 6, 7}}, {IDs: []int32{9}}}
	if !reflect.DeepEqual(exs, want) {
		t.Fatalf("got %v, want %v", exs, want)
	}
}

func TestParseJSONLErrorsNameTheLine(t *testing.T) {
	cases := map[string]string{
		"{\"text\": \"a\"}\n{not json}\n":                  "line 2: invalid JSON",
		`{"input_ids": [1, 2], "labels": [1]}`:             "line 1: 1 labels for 2 input_ids",
		`{"input_ids": [1, -2]}`:                           "line 1: input_ids[1] = -2",
		`{"input_ids": [1], "labels": [-5]}`:               "line 1: labels[0] = -5",
		`{"foo": 1}`:                                       `line 1: expected an object`,
		`{"text": "a", "input_ids": [1]}`:                  "line 1: both",
		`{"input_ids": []}`:                                "line 1: \"input_ids\" is empty",
		"":                                                 "no examples",
		`{"input_ids": [1]} {"input_ids": [2]}`:            "line 1: invalid JSON: more than one value",
		`{"text": "x", "labels": [1]}`:                     `line 1: "labels" needs "input_ids"`,
		`{"input_ids": [1.5]}`:                             "line 1: invalid JSON",
		`{"input_ids": [99999999999]}`:                     "line 1: input_ids[0] = 99999999999",
		`{"text": 3}`:                                      "line 1: invalid JSON",
		"{\"input_ids\": [1]}\n\n{\"input_ids\": \"x\"}\n": "line 3: invalid JSON",
	}
	for in, want := range cases {
		_, err := ParseJSONL(strings.NewReader(in), fakeEncoder{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("input %q: error %v, want it to contain %q", in, err, want)
		}
	}
	if _, err := ParseJSONL(strings.NewReader(`{"text": "a"}`), nil); err == nil || !strings.Contains(err.Error(), "tokenizer") {
		t.Errorf("text without tokenizer: %v", err)
	}
	if _, err := ReadJSONL("/nonexistent/x.jsonl", nil); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestBatchesPadTruncateAndTargets(t *testing.T) {
	exs := []Example{{IDs: []int32{1, 2, 3, 4}}, {IDs: []int32{5, 6}, Labels: []int32{-100, 6}}, {IDs: []int32{7}}}
	bs := Batches(exs, 2, 3, 0)
	if len(bs) != 2 {
		t.Fatalf("%d batches, want 2", len(bs))
	}
	b := bs[0]
	if b.B != 2 || b.S != 3 || !reflect.DeepEqual(b.Lengths, []int32{3, 2}) {
		t.Fatalf("batch shape %d×%d lengths %v", b.B, b.S, b.Lengths)
	}
	if !reflect.DeepEqual(b.IDs, []int32{1, 2, 3, 5, 6, 0}) {
		t.Fatalf("ids %v", b.IDs)
	}
	if !reflect.DeepEqual(b.Labels, []int32{1, 2, 3, -100, 6, -100}) {
		t.Fatalf("labels %v", b.Labels)
	}
	// Position s predicts label s+1: row 0 → 2, 3, none; row 1 → 6, none, none.
	if got := b.Targets(); !reflect.DeepEqual(got, []int32{2, 3, -1, 6, -1, -1}) {
		t.Fatalf("targets %v", got)
	}
	if got := b.RowMask(); !reflect.DeepEqual(got, []bool{true, true, true, true, true, false}) {
		t.Fatalf("row mask %v", got)
	}
	if err := b.Validate(7, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(6, 0); err == nil || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Fatalf("vocab check: %v", err)
	}
	if err := b.Validate(7, 2); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("max length check: %v", err)
	}
	if bs[1].B != 1 || bs[1].S != 1 {
		t.Fatalf("last batch %d×%d", bs[1].B, bs[1].S)
	}
}
