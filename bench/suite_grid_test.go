package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/models"
)

// writeToyTask writes ToyTask as a prepared task called name into dir.
func writeToyTask(t *testing.T, dir, name string) {
	t.Helper()
	train, valid, test, labels := ToyTask(80)
	if err := WriteTask(dir, name, train, valid, test, labels); err != nil {
		t.Fatal(err)
	}
}

// TestRanksSuiteShardsAndMerge runs the quick ranks grid on the tiny fixture in two shards, merges
// them and checks the merged summary equals a one-process run: every configuration present with its
// seeds, steps-to-target measured against kaiming, and the Markdown naming every init.
func TestRanksSuiteShardsAndMerge(t *testing.T) {
	dir := t.TempDir()
	writeToyTask(t, dir, "spam")
	suite, err := LookupSuite("ranks")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Quick: true, Seeds: 2, Model: "../testdata/models/llama", DataDir: dir}
	whole, err := suite.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var parts []*GridResults
	for shard := range 2 {
		o := opts
		o.Shard, o.Shards = shard, 2
		p, err := suite.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p.(*GridResults))
	}
	merged, err := MergeGrid(parts)
	if err != nil {
		t.Fatal(err)
	}
	w := whole.(*GridResults)
	wantParams := 0
	{
		ck, err := models.Open("../testdata/models/llama", cpu.New())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ck.Model.Linears() {
			if l.Name != "lm_head" {
				wantParams += 4 * (l.In + l.Out)
			}
		}
	}
	if len(w.Runs) != 6 || len(merged.Runs) != 6 || len(w.Cells) != 3 || len(merged.Cells) != 3 {
		t.Fatalf("%d runs / %d cells whole, %d / %d merged", len(w.Runs), len(w.Cells), len(merged.Runs), len(merged.Cells))
	}
	for i, c := range w.Cells {
		m := merged.Cells[i]
		if c.Init != m.Init || c.Seeds != 2 || m.Seeds != 2 || c.EvalLoss.Mean != m.EvalLoss.Mean {
			t.Errorf("cell %d: whole %+v, merged %+v", i, c, m)
		}
		if !(c.InitSteps.N == 2) || math.IsNaN(float64(c.InitSteps.Mean)) {
			t.Errorf("cell %d: init steps %+v", i, c.InitSteps)
		}
		// r 4 on every Linear of the fixture: Σ 4·(in + out), unless EVA moved ranks.
		if c.Params.N != 2 || (c.Init != "eva-rho2" && float64(c.Params.Mean) != float64(wantParams)) {
			t.Errorf("cell %d (%s): trainable parameters %+v, want %d", i, c.Init, c.Params, wantParams)
		}
		if c.Init == "kaiming" && !(c.StepsToTarget.N > 0) {
			t.Errorf("kaiming never reaches its own final loss: %+v", c.StepsToTarget)
		}
	}
	md := merged.Markdown()
	for _, s := range []string{"kaiming", "eva-rho2", "pissa", "## spam"} {
		if !strings.Contains(md, s) {
			t.Errorf("report lacks %q:\n%s", s, md)
		}
	}
	stale := *parts[1]
	stale.Runs = append([]GridRun(nil), stale.Runs...)
	stale.Runs[0].Task = "sotu-party"
	if _, err := MergeGrid([]*GridResults{parts[0], &stale}); err == nil || !strings.Contains(err.Error(), "not one of its runs") {
		t.Errorf("merging a shard with a run of another grid: error %v", err)
	}
	other := *parts[1]
	other.Env.Steps++
	if _, err := MergeGrid([]*GridResults{parts[0], &other}); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("merging shards of other budgets: error %v", err)
	}
	if _, err := MergeGrid(append(parts, parts[0])); err == nil {
		t.Error("merging a shard twice was accepted")
	}
	if _, err := MergeGrid(parts[:1]); err == nil || !strings.Contains(err.Error(), "3 of the 6 runs") ||
		!strings.Contains(err.Error(), "1 of 2 shards have no result (1)") {
		t.Errorf("merging one of two shards: error %v, want the missing runs named", err)
	}

	// A run killed after its second finished run continues from its checkpoint: the runs done are
	// kept, the others run, and the result equals the uninterrupted one.
	ctx, cancel := context.WithCancel(context.Background())
	var saved *GridResults
	o := opts
	o.Checkpoint = func(r *GridResults) error {
		js, err := json.Marshal(r)
		if err != nil {
			return err
		}
		saved = new(GridResults)
		if err := json.Unmarshal(js, saved); err != nil {
			return err
		}
		if len(r.Runs) == 2 {
			cancel()
		}
		return nil
	}
	if _, err := suite.Run(ctx, o); err == nil {
		t.Fatal("a cancelled grid suite returned no error")
	}
	if saved == nil || len(saved.Runs) != 2 || saved.Complete {
		t.Fatalf("checkpoint after the kill: %+v", saved)
	}
	var ran int
	o.Checkpoint = func(*GridResults) error { ran++; return nil }
	// A run of another grid (a learning rate since dropped) is not kept.
	saved.Runs = append(saved.Runs, GridRun{Task: "spam", Init: "kaiming", R: 4, LR: 9, Seed: 0})
	o.Resume = saved
	resumed, err := suite.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if ran != 4 {
		t.Errorf("the resumed suite ran %d runs, want the 4 not done", ran)
	}
	r := resumed.(*GridResults)
	if !r.Complete || len(r.Cells) != len(w.Cells) || len(r.Runs) != 6 {
		t.Fatalf("resumed: complete %v, %d cells, %d runs", r.Complete, len(r.Cells), len(r.Runs))
	}
	for i, c := range w.Cells {
		if m := r.Cells[i]; c.Init != m.Init || c.EvalLoss.Mean != m.EvalLoss.Mean || c.StepsToTarget.Mean != m.StepsToTarget.Mean && c.StepsToTarget.N > 0 {
			t.Errorf("cell %d: uninterrupted %+v, resumed %+v", i, c, m)
		}
	}
	o.Seeds = 3
	if _, err := suite.Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--seeds") {
		t.Errorf("resuming with other seeds: error %v", err)
	}
}

// TestOverheadSuiteQuick runs the overhead suite on the tiny fixture: EVA's init and a training step
// are timed and their ratio is consistent.
func TestOverheadSuiteQuick(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 40 {
		line, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("the cat %d sat on the mat and the dog ran to the house %d times", i, i*7)})
		b.Write(line)
		b.WriteByte('\n')
	}
	os.WriteFile(filepath.Join(dir, "generic.valid.jsonl"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "generic.meta.json"), []byte(`{"name": "generic", "kind": "corpus"}`), 0o644)
	suite, _ := LookupSuite("overhead")
	res, err := suite.Run(context.Background(), Options{Quick: true, Model: "../testdata/models/llama", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rows := res.(*OverheadResults).Rows
	if len(rows) != 1 || !(rows[0].InitSeconds > 0) || !(rows[0].StepSeconds > 0) || rows[0].Batches < 1 ||
		math.Abs(float64(rows[0].Ratio)-float64(rows[0].InitSeconds/rows[0].StepSeconds)) > 1e-9 {
		t.Errorf("rows %+v", rows)
	}
	if !strings.Contains(res.Markdown(), "init / step") {
		t.Error(res.Markdown())
	}
	costs := res.(*OverheadResults).Inits
	if len(costs) != len(overheadMethods)+1 {
		t.Fatalf("%d init costs, want %d", len(costs), len(overheadMethods)+1)
	}
	for _, c := range costs {
		if !(c.Seconds > 0) || math.Abs(float64(c.Steps-c.Seconds/rows[0].StepSeconds)) > 1e-9 || !strings.Contains(res.Markdown(), "| "+c.Method+" |") {
			t.Errorf("init cost %+v", c)
		}
	}
}

// TestPivotsMarkEachRanksBest checks the init × rank tables: one row per init, the best value of
// each rank's column in bold (lowest loss, highest accuracy), "—" where a configuration is missing.
func TestPivotsMarkEachRanksBest(t *testing.T) {
	cell := func(init string, r int, loss, acc float64) GridCell {
		return GridCell{Init: init, R: r, EvalLoss: newStat([]float64{loss}), Accuracy: newStat([]float64{acc}), StepsToTarget: newStat(nil), EarlyLoss: newStat(nil)}
	}
	var b strings.Builder
	writePivots(&b, []GridCell{cell("kaiming", 2, 0.5, 0.6), cell("eva-rho2", 2, 0.4, 0.55), cell("kaiming", 8, 0.3, 0.7)})
	md := b.String()
	for _, want := range []string{
		"| init | r 2 | r 8 |",
		"| kaiming | 0.5000 | **0.3000** |",
		"| eva-rho2 | **0.4000** | — |",
		"| kaiming | **0.600** | **0.700** |",
		"| eva-rho2 | 0.550 | — |",
		"| kaiming | — | — |", // no steps-to-target values
	} {
		if !strings.Contains(md, want) {
			t.Errorf("pivots lack %q:\n%s", want, md)
		}
	}
	b.Reset()
	part := cell("olora", 2, 0.5, 0.6)
	part.Seeds, part.StepsToTarget = 3, newStat([]float64{50})
	writePivots(&b, []GridCell{part, cell("olora", 8, 0.5, 0.6)})
	if !strings.Contains(b.String(), "| olora | **50.0** (1 of 3) | — |") {
		t.Errorf("steps to target reached by one seed of three not marked:\n%s", b.String())
	}
	b.Reset()
	writePivots(&b, []GridCell{cell("kaiming", 2, 0.5, 0.6)})
	if b.Len() != 0 {
		t.Errorf("one rank gave pivots:\n%s", b.String())
	}
}

// TestInitStepsIsInitOverStepTime: a run's init cost in training steps is its init time over its
// mean step time, and undefined without a timed step.
func TestInitStepsIsInitOverStepTime(t *testing.T) {
	g := GridRun{InitSeconds: 3, TrainSeconds: 12, Losses: make([]Float, 80)}
	if got := g.initSteps(); math.Abs(got-20) > 1e-12 {
		t.Errorf("init steps %v, want 20 (3 s over 12 s / 80 steps)", got)
	}
	if got := (GridRun{InitSeconds: 3}).initSteps(); !math.IsNaN(got) {
		t.Errorf("init steps without training %v, want NaN", got)
	}
}

// TestSummariseEarlyLossAndStepsToTarget checks the windowed measures on hand-made curves: the
// early loss is the mean of the 10 steps up to a quarter of the budget, and steps to target the
// first step whose 10-step mean reaches kaiming's mean final loss at kaiming's best rate.
func TestSummariseEarlyLossAndStepsToTarget(t *testing.T) {
	curve := func(f func(step int) float64) []Float {
		ls := make([]Float, 80)
		for i := range ls {
			ls[i] = Float(f(i + 1))
		}
		return ls
	}
	flat := curve(func(int) float64 { return 1 }) // kaiming's final loss is 1
	falling := curve(func(s int) float64 { return 2 - float64(s)/40 })
	runs := []GridRun{
		{Task: "t", Init: "kaiming", R: 2, LR: 1e-3, EvalLoss: 1, FinalLoss: 1, Losses: flat},
		{Task: "t", Init: "kaiming", R: 2, LR: 4e-3, EvalLoss: 2, FinalLoss: 0.1, Losses: flat}, // worse rate: ignored
		{Task: "t", Init: "eva", R: 2, LR: 1e-3, EvalLoss: 0.5, FinalLoss: 0, Losses: falling},
	}
	for _, c := range summarise(runs, "kaiming") {
		switch c.Init {
		case "kaiming":
			if c.BestLR != 1e-3 || c.EarlyLoss.Mean != 1 || c.StepsToTarget.Mean != 10 {
				t.Errorf("kaiming cell %+v", c)
			}
		case "eva":
			// steps 11…20 average 2 − 15.5/40; the 10-step mean reaches 1 at step 45 (36…45: mean 40.5).
			if want := 2 - 15.5/40; math.Abs(float64(c.EarlyLoss.Mean)-want) > 1e-12 || c.StepsToTarget.Mean != 45 {
				t.Errorf("eva cell: early loss %v steps %v, want %v and 45", c.EarlyLoss.Mean, c.StepsToTarget.Mean, want)
			}
		}
	}
	if got := windowMean(flat[:5], earlyStep(80), earlyWindow); !math.IsNaN(got) {
		t.Errorf("window past a short run's end: %v, want NaN", got)
	}
}

// TestDirectionsRepeatRanks: the directions suite's kaiming runs are runs of the ranks suite (same
// task, rank, rate and seed), so its orthonormal cells compare with ranks.md's, and the orthonormal
// runs sweep the rates of the B = 0 inits.
func TestDirectionsRepeatRanks(t *testing.T) {
	inRanks := map[string]bool{}
	for _, g := range rankGrid.runs(false, 3) {
		inRanks[g.id()] = true
	}
	runs := directionsGrid.runs(false, 3)
	if len(runs) != 120 {
		t.Fatalf("%d directions runs, want 120 (2 tasks × 5 ranks × 2 inits × 2 rates × 3 seeds)", len(runs))
	}
	for _, g := range runs {
		probe := g
		probe.Init = "kaiming"
		if !inRanks[probe.id()] {
			t.Errorf("%+v: the ranks suite has no kaiming run with these settings", g)
		}
	}
}
