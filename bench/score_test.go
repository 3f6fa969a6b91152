package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
)

func openFixture(t *testing.T) (*models.Checkpoint, *cpu.Backend) {
	t.Helper()
	be := cpu.New()
	ck, err := models.Open("../testdata/models/llama", be)
	if err != nil {
		t.Fatal(err)
	}
	return ck, be
}

// TestSequenceLogProbsMatchEvaluate: per-sequence log-probabilities, batched with padding, add up to
// minus the summed loss that model.Evaluate computes one sequence at a time.
func TestSequenceLogProbsMatchEvaluate(t *testing.T) {
	ck, be := openFixture(t)
	var exs []data.Example
	for _, p := range [][2]string{{"The cat", " sat on the mat."}, {"Call me", " Ishmael."}, {"It was the best of times,", " it was the worst."}} {
		ex, err := data.PromptCompletion(ck.Tokenizer, p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, ex)
	}
	got, err := SequenceLogProbs(be, ck.Model, exs, 2, ck.Tokenizer.PadID())
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range exs {
		l, err := model.Evaluate(be, ck.Model, data.Batches([]data.Example{ex}, 1, 0, 0), nil)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got[i]+l.Sum) > 1e-3 {
			t.Errorf("example %d: log-probability %.5f, Evaluate's loss sum %.5f", i, got[i], l.Sum)
		}
	}
}

// TestAccuracyPicksTheLikeliestCandidate: with the candidates ranked by their own log-probability,
// labelling every item with the model's favourite gives accuracy 1 and with another candidate 0.
func TestAccuracyPicksTheLikeliestCandidate(t *testing.T) {
	ck, be := openFixture(t)
	cands := []string{" yes", " no", " maybe"}
	prompts := []string{"Is the sky blue?", "Do cats bark?", "Is it raining?"}
	var fav, other []Item
	for _, p := range prompts {
		var exs []data.Example
		for _, c := range cands {
			ex, _ := data.PromptCompletion(ck.Tokenizer, p, c)
			exs = append(exs, ex)
		}
		s, err := SequenceLogProbs(be, ck.Model, exs, 8, ck.Tokenizer.PadID())
		if err != nil {
			t.Fatal(err)
		}
		best := 0
		for j := range s {
			if s[j] > s[best] {
				best = j
			}
		}
		fav = append(fav, Item{p, cands[best]})
		other = append(other, Item{p, cands[(best+1)%len(cands)]})
	}
	if a, err := Accuracy(be, ck.Model, ck.Tokenizer, fav, cands, 4, 0, ck.Tokenizer.PadID()); err != nil || a != 1 {
		t.Errorf("accuracy with the favourites %v (%v), want 1", a, err)
	}
	if a, _ := Accuracy(be, ck.Model, ck.Tokenizer, other, cands, 4, 0, ck.Tokenizer.PadID()); a != 0 {
		t.Errorf("accuracy with other labels %v, want 0", a)
	}
}

// TestGreedyTakesTheArgmax: the first generated token is the argmax of the last position's logits.
func TestGreedyTakesTheArgmax(t *testing.T) {
	ck, be := openFixture(t)
	ids, _ := ck.Tokenizer.Encode("Call me", true)
	got, err := Greedy(be, ck.Model, ids, 3, -1)
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %v", got, err)
	}
	b := &data.Batch{B: 1, S: len(ids), IDs: ids, Lengths: []int32{int32(len(ids))}}
	logits, _ := ck.Model.Forward(model.Context(be, b), b)
	row := be.ToHost(logits)[(len(ids)-1)*ck.Config.VocabSize:]
	best := 0
	for i := range ck.Config.VocabSize {
		if row[i] > row[best] {
			best = i
		}
	}
	if got[0] != int32(best) {
		t.Errorf("first greedy token %d, argmax %d", got[0], best)
	}
}

// TestExactMatch: an item whose completion is the model's own greedy continuation matches; another
// does not.
func TestExactMatch(t *testing.T) {
	ck, be := openFixture(t)
	ids, _ := ck.Tokenizer.Encode("Call me", true)
	out, _ := Greedy(be, ck.Model, ids, 2, -1)
	own := ck.Tokenizer.Decode(out, true)
	acc, err := ExactMatch(be, ck.Model, ck.Tokenizer, []Item{{"Call me", own}, {"Call me", own + " and more"}}, 2, -1)
	if err != nil || acc != 0.5 {
		t.Errorf("exact match %v (%v), want 0.5 (continuation %q)", acc, err, own)
	}
}

// TestCannotMatch: a continuation is given up only when no further text can make it equal the
// answer; its last rune is not judged (a later token may still change it).
func TestCannotMatch(t *testing.T) {
	for _, c := range []struct {
		got, want string
		stop      bool
	}{
		{"", " 42", false},
		{" 4", " 42", false},       // the last rune is not judged
		{" 43", " 42", false},      // "4" begins "42"; the 3 may yet change
		{" 435", " 42", true},      // "43" does not begin "42"
		{" 7", " 42", false},       // one rune: not judged
		{" 71", " 42", true},       // "7" does not
		{" 42 ", " 42", false},     // the answer and white space
		{" 42  x", " 42", false},   // its last rune is not judged
		{" 42 xy", " 42", true},    // more than white space after it
		{" 42\n\n", " 42", false},  // trailing new lines are trimmed
		{"\ufffd12", " 42", false}, // undecodable bytes: never judged
		{"  Paris", "Paris", false},
		{"  Parx!", "Paris", true},
	} {
		if got := cannotMatch(c.got, c.want); got != c.stop {
			t.Errorf("cannotMatch(%q, %q) = %v, want %v", c.got, c.want, got, c.stop)
		}
	}
}

// TestExactMatchStopsEarlyWithTheSameScore: with early stopping, exact match scores items the
// same as comparing full greedy continuations.
func TestExactMatchStopsEarlyWithTheSameScore(t *testing.T) {
	ck, be := openFixture(t)
	var items []Item
	for _, p := range []string{"Call me", "It was", "The sea", "And then"} {
		ids, _ := ck.Tokenizer.Encode(p, true)
		out, _ := Greedy(be, ck.Model, ids, 4, -1)
		own := ck.Tokenizer.Decode(out, true)
		items = append(items, Item{p, own}, Item{p, own + "x"}, Item{p, "x" + own})
	}
	want := 0.0
	for _, it := range items {
		ids, _ := ck.Tokenizer.Encode(it.Prompt, true)
		out, _ := Greedy(be, ck.Model, ids, 4, -1)
		if strings.TrimSpace(ck.Tokenizer.Decode(out, true)) == strings.TrimSpace(it.Completion) {
			want++
		}
	}
	want /= float64(len(items))
	got, err := ExactMatch(be, ck.Model, ck.Tokenizer, items, 4, -1)
	if err != nil || got != want || want == 0 {
		t.Errorf("exact match %v (%v), full continuations give %v", got, err, want)
	}
}
