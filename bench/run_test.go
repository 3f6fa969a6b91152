package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/lora/inits"
)

// toyTask is a learnable classification task for the tiny fixture model: the label is the first
// word of the prompt.
func toyTask(t *testing.T) *Task {
	t.Helper()
	ck, _ := openFixture(t)
	words := []string{"red", "blue"}
	task := &Task{Name: "toy", Candidates: []string{" red", " blue"}}
	for i := range 80 {
		w := words[i%2]
		prompt := fmt.Sprintf("%s thing number %d is", w, i)
		ex, err := data.PromptCompletion(ck.Tokenizer, prompt, " "+w)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i < 60:
			task.Train = append(task.Train, ex)
		case i < 70:
			task.Valid = append(task.Valid, ex)
		default:
			task.Test = append(task.Test, Item{prompt, " " + w})
		}
	}
	return task
}

// TestRunAndReport trains EVA and kaiming adapters on the toy task with the same budget and checks
// the measures and the report: the loss falls, steps-to-target agrees with the logged losses, EVA's
// ranks are its own, and the table, Markdown and HTML name both runs.
func TestRunAndReport(t *testing.T) {
	task := toyTask(t)
	dir := t.TempDir()
	var results []*Result
	for _, name := range []string{"eva", "kaiming"} {
		m, _ := inits.Parse(name)
		r, err := Run(context.Background(), Spec{Label: name, ModelDir: "../testdata/models/llama", Init: m, R: 2, Alpha: 4,
			Rho: 2, Targets: "all-linear", Steps: 30, BatchSize: 6, MaxLen: 32, EvalEvery: 10, LR: 2e-2, Schedule: "linear",
			Seed: 1, Out: filepath.Join(dir, name)}, task)
		if err != nil {
			t.Fatal(err)
		}
		if !(r.LossAt(30) < r.LossAt(1)) || math.IsNaN(r.Accuracy) || !(r.EvalLoss > 0) || r.InitSeconds <= 0 {
			t.Errorf("%s: loss %.3f → %.3f, accuracy %v, eval loss %v, init %v s", name, r.LossAt(1), r.LossAt(30), r.Accuracy, r.EvalLoss, r.InitSeconds)
		}
		if s := r.StepsTo(r.LossAt(1)+1, 1); s != 1 {
			t.Errorf("%s: steps to a target above the first loss = %d, want 1", name, s)
		}
		if s := r.StepsTo(-1, 1); s != -1 {
			t.Errorf("%s: an unreachable target reached at %d", name, s)
		}
		if _, err := os.Stat(filepath.Join(dir, name, "adapter_model.safetensors")); err != nil {
			t.Error(err)
		}
		results = append(results, r)
	}
	if rankSummary(results[1].Ranks) != "2 ×14" {
		t.Errorf("kaiming ranks %v", results[1].Ranks)
	}
	c := &Comparison{Title: "toy", Settings: []string{"tiny fixture"}, Runs: results, Steps: 30, TargetLoss: 1, Window: 3}
	var table strings.Builder
	if err := c.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteReport(dir); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, s := range []string{table.String(), c.Markdown(), string(page)} {
		if !strings.Contains(s, "eva") || !strings.Contains(s, "kaiming") || !strings.Contains(s, "loss @30") {
			t.Errorf("report without both runs: %s", s)
		}
	}
	if !strings.Contains(string(page), "<svg") {
		t.Error("the HTML report has no inline plot")
	}
}

// TestKeepEnd: a long example keeps its last tokens and labels, so a completion survives.
func TestKeepEnd(t *testing.T) {
	exs := keepEnd([]data.Example{{IDs: []int32{1, 2, 3, 4, 5}, Labels: []int32{-100, -100, -100, 4, 5}}, {IDs: []int32{7}}}, 3)
	if fmt.Sprint(exs[0].IDs, exs[0].Labels, exs[1].IDs) != "[3 4 5] [-100 4 5] [7]" {
		t.Errorf("%v", exs)
	}
}

// TestEVACalibratesOnWholeExamples checks that EVA's components come from every token of a task's
// examples: with 2 examples per batch the answers give a handful of labelled tokens, fewer than the
// 16 components r 8 and ρ 2 ask for, so a label-masked calibration could never finish.
func TestEVACalibratesOnWholeExamples(t *testing.T) {
	m, _ := inits.Parse("eva")
	_, err := Run(context.Background(), Spec{Label: "eva", ModelDir: "../testdata/models/llama", Init: m, R: 8, Alpha: 16,
		Rho: 2, Targets: "q_proj,v_proj", Steps: 2, BatchSize: 2, MaxLen: 32, EvalEvery: 2, LR: 1e-3, Schedule: "linear",
		Seed: 1, Out: filepath.Join(t.TempDir(), "eva")}, toyTask(t))
	if err != nil {
		t.Fatalf("EVA with more components than labelled tokens per batch: %v", err)
	}
}
