package data

import (
	"github.com/eva-lora/eva/internal/pcg"

	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func textExamples(lens ...int) []Example {
	var exs []Example
	next := int32(10)
	for _, n := range lens {
		ex := Example{Kind: KindText}
		for range n {
			ex.IDs = append(ex.IDs, next)
			next++
		}
		exs = append(exs, ex)
	}
	return exs
}

func TestPackLengthsAndContent(t *testing.T) {
	docs := textExamples(3, 5, 1, 7)
	other := Example{IDs: []int32{7, 7}, Labels: []int32{IgnoreIndex, 7}, Kind: KindCompletion}
	in := append(slices.Clone(docs[:2]), other)
	in = append(in, docs[2:]...)
	const L, eos = 4, 2
	out, err := Pack(in, L, eos)
	if err != nil {
		t.Fatal(err)
	}
	// The stream is every document followed by EOS: 3+1 + 5+1 + 1+1 + 7+1 = 20 tokens = 5 chunks of 4.
	var stream []int32
	for _, d := range docs {
		stream = append(append(stream, d.IDs...), eos)
	}
	var got []int32
	var kinds []Kind
	for i, ex := range out {
		kinds = append(kinds, ex.Kind)
		if ex.Kind != KindText {
			if !reflect.DeepEqual(ex, other) {
				t.Fatalf("example %d changed: %v", i, ex)
			}
			continue
		}
		if len(ex.IDs) != L || ex.Labels != nil {
			t.Fatalf("chunk %d has %d ids (labels %v), want %d", i, len(ex.IDs), ex.Labels, L)
		}
		got = append(got, ex.IDs...)
	}
	if !reflect.DeepEqual(got, stream) {
		t.Fatalf("chunks %v, want %v", got, stream)
	}
	// The other example sits where it came: after the chunks completed by the first two documents.
	if want := []Kind{KindText, KindText, KindCompletion, KindText, KindText, KindText}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("order %v, want %v", kinds, want)
	}
	// A last partial chunk is kept; a document that already ends in EOS gets no second one; no EOS
	// when the tokenizer has none.
	out, _ = Pack([]Example{{IDs: []int32{5, 6, eos}, Kind: KindText}, {IDs: []int32{8}, Kind: KindText}}, 4, eos)
	if len(out) != 2 || !reflect.DeepEqual(out[0].IDs, []int32{5, 6, eos, 8}) || !reflect.DeepEqual(out[1].IDs, []int32{eos}) {
		t.Fatalf("chunks %v", out)
	}
	out, _ = Pack([]Example{{IDs: []int32{5, 6}, Kind: KindText}, {IDs: []int32{8}, Kind: KindText}}, 2, -1)
	if len(out) != 2 || !reflect.DeepEqual(out[1].IDs, []int32{8}) {
		t.Fatalf("chunks without EOS %v", out)
	}
	if _, err := Pack(docs, 0, eos); err == nil {
		t.Fatal("chunk length 0 accepted")
	}
}

func TestSplitSizesAndDeterminism(t *testing.T) {
	exs := textExamples(slices.Repeat([]int{1}, 50)...)
	for _, c := range []struct {
		h         Holdout
		wantValid int
	}{{Holdout{Fraction: 0.1}, 5}, {Holdout{Fraction: 0.01}, 1}, {Holdout{Fraction: 0.33}, 17}, {Holdout{Count: 7}, 7}} {
		train, valid, err := Split(exs, c.h, 42)
		if err != nil {
			t.Fatal(err)
		}
		if len(valid) != c.wantValid || len(train)+len(valid) != len(exs) {
			t.Fatalf("%+v: %d train, %d valid, want %d valid", c.h, len(train), len(valid), c.wantValid)
		}
		// Disjoint, together all of them, each in the original order.
		var ids []int32
		for _, part := range [][]Example{train, valid} {
			for i, ex := range part {
				if i > 0 && ex.IDs[0] <= part[i-1].IDs[0] {
					t.Fatalf("%+v: order not kept", c.h)
				}
				ids = append(ids, ex.IDs[0])
			}
		}
		slices.Sort(ids)
		for i, id := range ids {
			if id != int32(10+i) {
				t.Fatalf("%+v: examples lost or repeated: %v", c.h, ids)
			}
		}
		train2, valid2, _ := Split(exs, c.h, 42)
		if !reflect.DeepEqual(train, train2) || !reflect.DeepEqual(valid, valid2) {
			t.Fatalf("%+v: the same seed gave another split", c.h)
		}
	}
	_, v1, _ := Split(exs, Holdout{Count: 10}, 1)
	_, v2, _ := Split(exs, Holdout{Count: 10}, 2)
	if reflect.DeepEqual(v1, v2) {
		t.Fatal("seeds 1 and 2 held out the same examples")
	}
	for h, want := range map[Holdout]string{
		{Count: 50}:                "training split is empty",
		{Count: 60}:                "training split is empty",
		{Fraction: 1}:              "not in (0, 1)",
		{Fraction: -0.5}:           "not in (0, 1)",
		{Fraction: 0.1, Count: 2}:  "not both",
		{Count: -1}:                "negative",
		{Fraction: 1e-9, Count: 0}: "", // ceil: one example
	} {
		_, _, err := Split(exs, h, 0)
		if want == "" {
			if err != nil {
				t.Errorf("%+v: %v", h, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want %q", h, err, want)
		}
	}
	if _, _, err := Split(nil, Holdout{Fraction: 0.5}, 0); err == nil || !strings.Contains(err.Error(), "validation split is empty") {
		t.Errorf("no examples: %v", err)
	}
}

// TestPermutationIsPinned fixes the order drawn from a seed: resuming a run after a Go upgrade must
// give the same batches, so these values must never change.
func TestPermutationIsPinned(t *testing.T) {
	got := pcg.Permutation(10, 1234, 0)
	want := []int{6, 0, 2, 1, 8, 5, 7, 9, 4, 3}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pcg.Permutation(10, 1234, 0) = %#v, want %#v", got, want)
	}
	// Uniform: over 6000 seeds each of the 6 orders of 3 items comes about 1000 times (chi-square
	// with 5 degrees of freedom; 20.5 is its 0.999 quantile).
	counts := map[[3]int]int{}
	for seed := range uint64(6000) {
		p := pcg.Permutation(3, seed, 0)
		counts[[3]int(p)]++
	}
	chi2 := 0.0
	for _, c := range counts {
		d := float64(c) - 1000
		chi2 += d * d / 1000
	}
	if len(counts) != 6 || chi2 > 20.5 {
		t.Fatalf("orders of 3 items: %v (chi-square %.1f)", counts, chi2)
	}
	// Every small size gives a permutation.
	for n := range 20 {
		p := pcg.Permutation(n, 7, 3)
		s := slices.Clone(p)
		slices.Sort(s)
		for i, v := range s {
			if v != i {
				t.Fatalf("n=%d: %v is not a permutation", n, p)
			}
		}
	}
}

func drain(t *testing.T, l *Loader, n int) []*Batch {
	t.Helper()
	var out []*Batch
	for range n {
		b, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestLoaderEpochsAndResume(t *testing.T) {
	exs := textExamples(3, 1, 4, 2, 5, 1, 2, 3, 6, 2, 1)
	cfg := LoaderConfig{BatchSize: 3, MaxLen: 4, Pad: 0, Seed: 99}
	l, err := NewLoader(exs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l.BatchesPerEpoch() != 4 {
		t.Fatalf("%d batches per epoch, want 4 (11 examples, last batch of 2)", l.BatchesPerEpoch())
	}
	all := drain(t, l, 12) // three epochs
	if p := l.Position(); p != (Position{Epoch: 3}) {
		t.Fatalf("position %+v after 12 batches", p)
	}
	// Each epoch holds every example once (first ids are unique), truncated to MaxLen.
	var orders [3][]int32
	for e := range 3 {
		for _, b := range all[4*e : 4*e+4] {
			if err := b.Validate(100, 4); err != nil {
				t.Fatal(err)
			}
			for i := range b.B {
				orders[e] = append(orders[e], b.IDs[i*b.S])
			}
		}
		s := slices.Clone(orders[e])
		slices.Sort(s)
		var firsts []int32
		for _, ex := range exs {
			firsts = append(firsts, ex.IDs[0])
		}
		if !reflect.DeepEqual(s, firsts) {
			t.Fatalf("epoch %d holds %v, want each of %v once", e, s, firsts)
		}
	}
	if reflect.DeepEqual(orders[0], orders[1]) || reflect.DeepEqual(orders[1], orders[2]) {
		t.Fatalf("epochs share an order: %v", orders)
	}
	// Resume from every position: a fresh loader that seeks there yields the same batches.
	for step := range 12 {
		r, _ := NewLoader(exs, cfg)
		if err := r.Seek(l.PositionAt(int64(step))); err != nil {
			t.Fatal(err)
		}
		if got := drain(t, r, 12-step); !reflect.DeepEqual(got, all[step:]) {
			t.Fatalf("resumed at step %d (%+v): batches differ", step, l.PositionAt(int64(step)))
		}
	}
	// A position at the end of an epoch is the start of the next.
	r, _ := NewLoader(exs, cfg)
	if err := r.Seek(Position{Epoch: 1, Batch: 4}); err != nil || r.Position() != (Position{Epoch: 2}) {
		t.Fatalf("seek to end of epoch: %v %+v", err, r.Position())
	}
	if err := r.Seek(Position{Epoch: 0, Batch: 5}); err == nil {
		t.Fatal("seek past the epoch accepted")
	}
	if err := r.Seek(Position{Epoch: -1}); err == nil {
		t.Fatal("negative epoch accepted")
	}
}

func TestLoaderOptions(t *testing.T) {
	exs := textExamples(1, 2, 3, 4, 5, 6, 7)
	seq, _ := NewLoader(exs, LoaderConfig{BatchSize: 2, Sequential: true, DropLast: true, Epochs: 2})
	if seq.BatchesPerEpoch() != 3 {
		t.Fatalf("%d batches per epoch with DropLast, want 3", seq.BatchesPerEpoch())
	}
	got := drain(t, seq, 6)
	if want := Batches(exs[:6], 2, 0, 0); !reflect.DeepEqual(got[:3], want) || !reflect.DeepEqual(got[3:], want) {
		t.Fatal("sequential epochs differ from Batches")
	}
	if _, err := seq.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last epoch: %v, want io.EOF", err)
	}
	for _, c := range []struct {
		exs []Example
		cfg LoaderConfig
	}{{nil, LoaderConfig{BatchSize: 1}}, {exs, LoaderConfig{}}, {exs, LoaderConfig{BatchSize: 8, DropLast: true}},
		{exs, LoaderConfig{BatchSize: 1, MaxLen: -1}}, {[]Example{{}}, LoaderConfig{BatchSize: 1}}} {
		if _, err := NewLoader(c.exs, c.cfg); err == nil {
			t.Errorf("%d examples, %+v accepted", len(c.exs), c.cfg)
		}
	}
	// The fingerprint follows the data and the config, not the epoch count.
	base := LoaderConfig{BatchSize: 2, Seed: 1}
	fp := func(exs []Example, cfg LoaderConfig) string {
		l, err := NewLoader(exs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return l.Fingerprint()
	}
	f0 := fp(exs, base)
	changed := slices.Clone(exs)
	changed[3] = Example{IDs: []int32{1, 2, 3, 5}, Kind: KindText}
	masked := slices.Clone(exs)
	masked[0] = Example{IDs: exs[0].IDs, Labels: []int32{IgnoreIndex}}
	withEpochs := base
	withEpochs.Epochs = 3
	otherSeed := base
	otherSeed.Seed = 2
	if fp(exs, withEpochs) != f0 {
		t.Error("the epoch count changed the fingerprint")
	}
	for name, f := range map[string]string{"data": fp(changed, base), "labels": fp(masked, base), "seed": fp(exs, otherSeed)} {
		if f == f0 {
			t.Errorf("changing the %s kept the fingerprint", name)
		}
	}
}

// TestLoad runs the whole preparation: read, hold out, pack; and a separate validation file.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "{\"text\": \"doc%02d\"}\n", i)
	}
	b.WriteString(`{"prompt": "p", "completion": "c"}` + "\n")
	train := filepath.Join(dir, "train.jsonl")
	if err := os.WriteFile(train, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Train: train, Holdout: Holdout{Fraction: 0.2}, Seed: 5, Pack: true, MaxLen: 16, Options: Options{Encoder: fakeTok{}}}
	sets, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 21 lines, ceil(0.2·21) = 5 held out. Each doc is BOS + 5 runes + EOS = 7 tokens.
	count := func(exs []Example) (docs, tokens int) {
		for _, ex := range exs {
			if ex.Kind == KindText {
				tokens += len(ex.IDs)
				for _, id := range ex.IDs {
					if id == fakeBOS {
						docs++
					}
				}
			} else {
				docs++
			}
		}
		return
	}
	td, tt := count(sets.Train)
	vd, _ := count(sets.Valid)
	if td+vd != 21 || vd != 5 {
		t.Fatalf("%d train and %d valid documents, want 16 and 5", td, vd)
	}
	for _, ex := range sets.Train {
		if ex.Kind == KindText && len(ex.IDs) > 16 {
			t.Fatalf("chunk of %d tokens", len(ex.IDs))
		}
	}
	textDocs := td
	for _, ex := range sets.Train {
		if ex.Kind != KindText {
			textDocs--
		}
	}
	if tt != 7*textDocs {
		t.Fatalf("%d packed tokens for %d documents", tt, textDocs)
	}
	again, _ := Load(cfg)
	if !reflect.DeepEqual(again, sets) {
		t.Fatal("Load is not deterministic")
	}
	// A separate validation file; asking for both is an error; an error names the file.
	valid := filepath.Join(dir, "valid.jsonl")
	os.WriteFile(valid, []byte(`{"text": "v"}`+"\n"+`{"text": 1}`+"\n"), 0o644)
	cfg.Holdout = Holdout{}
	cfg.Valid = valid
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "valid.jsonl: line 2") {
		t.Fatalf("bad validation file: %v", err)
	}
	os.WriteFile(valid, []byte(`{"text": "v"}`+"\n"), 0o644)
	if sets, err = Load(cfg); err != nil || len(sets.Valid) != 1 {
		t.Fatalf("validation file: %v %v", err, sets)
	}
	cfg.Holdout = Holdout{Count: 1}
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("file and holdout: %v", err)
	}
	cfg = Config{Train: train, Holdout: Holdout{Count: 21}, Options: Options{Encoder: fakeTok{}}}
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "train.jsonl") || !strings.Contains(err.Error(), "training split is empty") {
		t.Fatalf("empty training split: %v", err)
	}
	// The fallback template's note comes once for both files.
	chat := `{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}` + "\n"
	os.WriteFile(train, []byte(chat+chat), 0o644)
	os.WriteFile(valid, []byte(chat), 0o644)
	var chatNotes []string
	cfg = Config{Train: train, Valid: valid, Options: Options{Encoder: fakeTok{}, Warn: func(s string) { chatNotes = append(chatNotes, s) }}}
	if sets, err := Load(cfg); err != nil || len(sets.Train) != 2 || len(sets.Valid) != 1 || len(chatNotes) != 1 {
		t.Fatalf("%v, notes %q", err, chatNotes)
	}
	// Examples cut before any learned token are left out, with a note.
	os.WriteFile(train, []byte(`{"prompt": "long prompt", "completion": "c"}`+"\n"+`{"text": "ok"}`+"\n"), 0o644)
	var notes []string
	cfg = Config{Train: train, MaxLen: 4, Options: Options{Encoder: fakeTok{}, Warn: func(s string) { notes = append(notes, s) }}}
	if sets, err := Load(cfg); err != nil || len(notes) != 1 || !strings.Contains(notes[0], "1 training examples") || len(sets.Train) != 1 {
		t.Fatalf("%v, notes %q", err, notes)
	}
}
