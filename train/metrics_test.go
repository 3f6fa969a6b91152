package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeRun logs training events for steps lo..hi and an evaluation every 5 steps.
func writeRun(t *testing.T, w *MetricsWriter, lo, hi int) {
	t.Helper()
	for s := lo; s <= hi; s++ {
		if err := w.Write(Event{Step: s, Epoch: Float(float64(s) / 4), Loss: Opt(10 / float64(s)), LR: Opt(1e-4), GradNorm: Opt(0.5), Tokens: int64(100 * s)}); err != nil {
			t.Fatal(err)
		}
		if s%5 == 0 {
			if err := w.Write(Event{Step: s, Epoch: Float(float64(s) / 4), EvalLoss: Opt(20 / float64(s))}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func steps(events []Event) (train, eval []int) {
	for _, e := range events {
		if e.Loss != nil {
			train = append(train, e.Step)
		}
		if e.EvalLoss != nil {
			eval = append(eval, e.Step)
		}
	}
	return train, eval
}

func TestMetricsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	w, err := CreateMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	in := []Event{
		{Step: 1, Epoch: 0.25, Loss: Opt(2.5), LR: Opt(0), GradNorm: Opt(1.25), Tokens: 512, TokensPerS: Opt(1000), ElapsedS: Opt(0.5)},
		{Step: 2, Epoch: 0.5, EvalLoss: Opt(2.25), Extra: map[string]Float{"eval_tokens": 64}},
		{Step: 3, Epoch: 0.75, Loss: Opt(math.NaN()), GradNorm: Opt(math.Inf(1))}, // a diverging run
	}
	for _, e := range in {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), raw)
	}
	for i, l := range lines { // each line is one standalone JSON object
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d %q: %v", i+1, l, err)
		}
	}
	if !strings.Contains(lines[0], `"lr":0,`) || strings.Contains(lines[0], "eval_loss") {
		t.Errorf("line 1 %s: a set zero must be written, an unset field left out", lines[0])
	}
	if !strings.Contains(lines[2], `"loss":"NaN"`) || !strings.Contains(lines[2], `"grad_norm":"Infinity"`) {
		t.Errorf("line 3 %s: non-finite values not written as strings", lines[2])
	}
	out, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || *out[0].Loss != 2.5 || *out[0].TokensPerS != 1000 || out[0].Tokens != 512 ||
		*out[1].EvalLoss != 2.25 || out[1].Extra["eval_tokens"] != 64 || out[1].Loss != nil ||
		!math.IsNaN(float64(*out[2].Loss)) || !math.IsInf(float64(*out[2].GradNorm), 1) {
		t.Errorf("read back %+v", out)
	}
}

// Resuming from the checkpoint at step 6 drops everything logged after it, so the resumed run's
// steps 7, 8, … appear once.
func TestResumeMetricsTruncates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	w, _ := CreateMetrics(path)
	writeRun(t, w, 1, 12)
	w.Close()
	// A crash cut the last write short.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"step":13,"epo`)
	f.Close()
	if ev, err := ReadMetrics(path); err != nil || len(ev) != 14 {
		t.Fatalf("ReadMetrics with a torn last line: %d events, %v; want 14, nil", len(ev), err)
	}

	w, err := ResumeMetrics(path, 6)
	if err != nil {
		t.Fatal(err)
	}
	writeRun(t, w, 7, 10)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ev, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	train, eval := steps(ev)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(train, want) {
		t.Errorf("train steps after resume %v, want %v", train, want)
	}
	if want := []int{5, 10}; !slices.Equal(eval, want) {
		t.Errorf("eval steps after resume %v, want %v", eval, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("resume left extra files: %v", entries)
	}

	// A missing file starts empty.
	fresh := filepath.Join(t.TempDir(), "new.jsonl")
	w, err = ResumeMetrics(fresh, 3)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if ev, err := ReadMetrics(fresh); err != nil || len(ev) != 0 {
		t.Errorf("fresh file: %d events, %v", len(ev), err)
	}
}

func TestMetricsBadLineNamesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	os.WriteFile(path, []byte("{\"step\":1,\"epoch\":0}\nnot json\n{\"step\":2,\"epoch\":0}\n"), 0o644)
	_, err := ReadMetrics(path)
	if err == nil || !strings.Contains(err.Error(), path+":2") {
		t.Errorf("ReadMetrics error %v, want one naming %s:2", err, path)
	}
	if _, err := ResumeMetrics(path, 5); err == nil {
		t.Error("ResumeMetrics accepted a corrupt line")
	}
	var f Float
	if err := json.Unmarshal([]byte(`"fast"`), &f); err == nil {
		t.Error(`Float accepted "fast"`)
	}
}
