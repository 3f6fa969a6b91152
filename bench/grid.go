package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/datasets"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/models"
)

// GridRun is one training run of a grid suite (ranks, calibration, directions) and what it measured.
type GridRun struct {
	Task string  `json:"task"`
	Init string  `json:"init"` // a label: "eva-rho1", "pissa", ...
	R    int     `json:"r"`
	LR   float64 `json:"lr"`
	Seed uint64  `json:"seed"`
	// CalibExamples and CalibDomain describe EVA's calibration set in the calibration suite
	// (0 and "" elsewhere: the task's training examples).
	CalibExamples int    `json:"calib_examples,omitempty"`
	CalibDomain   string `json:"calib_domain,omitempty"`

	InitSeconds  Float `json:"init_seconds"`
	TrainSeconds Float `json:"train_seconds"`
	FinalLoss    Float `json:"final_loss"` // windowed training loss at the last step
	EvalLoss     Float `json:"eval_loss"`
	Accuracy     Float `json:"accuracy"`
	// Losses is the training loss of every step, for steps-to-target computed across runs.
	Losses []Float `json:"losses"`
	// Params is the number of trainable adapter parameters (0: not recorded, in runs of older
	// versions).
	Params int `json:"trainable_params,omitempty"`
}

// key groups runs that differ only in seed (and learning rate, for the best-rate choice).
func (g GridRun) key() string {
	return fmt.Sprintf("%s|%s|%d|%d|%s", g.Task, g.Init, g.R, g.CalibExamples, g.CalibDomain)
}

// id names one run: its configuration, learning rate and seed.
func (g GridRun) id() string { return fmt.Sprintf("%s|%g|%d", g.key(), g.LR, g.Seed) }

// gridInit maps a grid label to an init method and EVA's rho.
func gridInit(label string) (inits.Method, float64, error) {
	rho := 1.0
	name := label
	if strings.HasPrefix(label, "eva-rho") {
		name = "eva"
		if _, err := fmt.Sscanf(strings.TrimPrefix(label, "eva-rho"), "%g", &rho); err != nil {
			return inits.Method{}, 0, fmt.Errorf("grid init %q: want eva-rhoN", label)
		}
	}
	m, err := inits.Parse(name)
	return m, rho, err
}

// GridEnv is what a grid suite needs besides the runs: the model, the prepared data, the budget.
type GridEnv struct {
	Model, DataDir                              string
	Steps, BatchSize, MaxLen, MaxTrain, MaxTest int
}

// defaultGridEnv is the environment of the suites: the house model, the datasets cache, a budget
// close to the demo's, in which the house model learns the tasks beyond chance (a first pass with
// 48 steps × 4 × 64 tokens stayed near chance accuracy for every init). One run takes about a
// minute on one core; the 540 runs of `ranks` are sharded over machines and sessions.
func defaultGridEnv(opts Options) (GridEnv, error) {
	env := GridEnv{Model: opts.Model, DataDir: opts.DataDir, Steps: 80, BatchSize: 8, MaxLen: 96, MaxTrain: 1000, MaxTest: 100}
	if opts.Quick {
		env.Steps, env.MaxTrain, env.MaxTest = 12, 64, 16
	}
	if env.Model == "" {
		m, err := HouseModel()
		if err != nil {
			return env, err
		}
		env.Model = m
	}
	if env.DataDir == "" {
		env.DataDir = datasets.CacheDir()
	}
	return env, nil
}

// runGrid runs the runs this shard owns (index % Shards == Shard) that are not among done (an
// earlier, killed run's), loading each task once, and calls checkpoint with the finished runs
// after each one.
func runGrid(ctx context.Context, opts Options, env GridEnv, runs, done []GridRun, calib func(GridRun, data.Encoder) ([]data.Example, error),
	checkpoint func([]GridRun) error) ([]GridRun, error) {
	tok, err := models.LoadTokenizer(filepath.Join(env.Model, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	// Each process trains in its own directory: shards, suites and tests running side by side on
	// one machine must not remove each other's runs.
	work, err := os.MkdirTemp("", "eva-bench-runs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	tasks := map[string]*Task{}
	finished := map[string]bool{}
	for _, g := range done {
		finished[g.id()] = true
	}
	done = slices.Clone(done)
	for i, g := range runs {
		if !ownsRun(i, opts.Shard, opts.Shards) || finished[g.id()] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		task := tasks[g.Task]
		if task == nil {
			if err := datasets.Ensure(env.DataDir, g.Task, nil); err != nil {
				return nil, err
			}
			if task, err = LoadTask(env.DataDir, g.Task, tok, env.MaxTrain, env.MaxTest, env.MaxLen); err != nil {
				return nil, err
			}
			tasks[g.Task] = task
		}
		m, rho, err := gridInit(g.Init)
		if err != nil {
			return nil, err
		}
		spec := Spec{Label: g.Init, ModelDir: env.Model, Init: m, R: g.R, Alpha: 2 * float64(g.R), Rho: rho, Targets: "all-linear",
			Steps: env.Steps, BatchSize: env.BatchSize, MaxLen: env.MaxLen, Warmup: env.Steps / 10, EvalEvery: env.Steps,
			LR: g.LR, Schedule: "linear", Seed: g.Seed, CalibBatches: 16, MaxNewTokens: 8,
			Out: filepath.Join(work, fmt.Sprintf("run-%d", i))}
		if calib != nil {
			if spec.Calibration, err = calib(g, tok); err != nil {
				return nil, err
			}
		}
		os.RemoveAll(spec.Out)
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "[%d/%d] %s %s r=%d lr=%g seed=%d\n", i+1, len(runs), g.Task, g.Init, g.R, g.LR, g.Seed)
		}
		res, err := Run(ctx, spec, task)
		if err != nil {
			return nil, err
		}
		os.RemoveAll(spec.Out)
		g.InitSeconds, g.TrainSeconds, g.Params = Float(res.InitSeconds), Float(res.TrainSeconds), res.Params
		g.FinalLoss, g.EvalLoss, g.Accuracy = Float(res.MeanLoss(env.Steps, 10)), Float(res.EvalLoss), Float(res.Accuracy)
		for s := 1; s <= env.Steps; s++ {
			g.Losses = append(g.Losses, Float(res.LossAt(s)))
		}
		done = append(done, g)
		if err := checkpoint(done); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// ownsRun reports whether shard k of n runs the grid's run i (runs are dealt out in turn; n ≤ 1:
// one shard runs everything).
func ownsRun(i, k, n int) bool { return i%max(n, 1) == k }

// GridCell summarises the runs of one configuration at its best learning rate.
type GridCell struct {
	Task, Init    string
	R             int
	CalibExamples int
	CalibDomain   string
	BestLR        float64
	Seeds         int
	EvalLoss      Stat
	Accuracy      Stat
	InitSeconds   Stat
	// InitSteps is the init time over the mean time of one training step of the same run: the
	// init's cost in training steps, which does not depend on the machine a run had.
	InitSteps     Stat
	StepsToTarget Stat // to the default init's final loss; NaN mean when never reached
	// EarlyLoss is the training loss at a quarter of the budget (the mean of the earlyWindow steps
	// that end there): how far an init has come early, where the paper claims EVA is ahead.
	EarlyLoss Stat
	// Params is the number of trainable parameters over the runs that recorded it.
	Params Stat
}

// initSteps is a run's init time over its mean training-step time (NaN without a timed step).
func (g GridRun) initSteps() float64 {
	if len(g.Losses) == 0 || !(g.TrainSeconds > 0) {
		return math.NaN()
	}
	return float64(g.InitSeconds) / (float64(g.TrainSeconds) / float64(len(g.Losses)))
}

// statOf summarises the values that are not NaN (a run that never reached a target).
func statOf(vs []float64) Stat {
	var good []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			good = append(good, v)
		}
	}
	return newStat(good)
}

// summarise picks each configuration's best learning rate (lowest mean validation loss over seeds)
// and reports that rate's statistics; steps-to-target uses, per task and rank, the final loss that
// the baseline init (kaiming) reaches at its best rate.
func summarise(runs []GridRun, baseline string) []GridCell {
	byKeyLR := map[string]map[float64][]GridRun{}
	var keys []string
	for _, g := range runs {
		k := g.key()
		if byKeyLR[k] == nil {
			byKeyLR[k] = map[float64][]GridRun{}
			keys = append(keys, k)
		}
		byKeyLR[k][g.LR] = append(byKeyLR[k][g.LR], g)
	}
	sort.Strings(keys)
	best := map[string][]GridRun{}
	bestLR := map[string]float64{}
	for _, k := range keys {
		bl, bm := 0.0, math.Inf(1)
		for lr, gs := range byKeyLR[k] {
			var ls []float64
			for _, g := range gs {
				ls = append(ls, float64(g.EvalLoss))
			}
			if m := float64(statOf(ls).Mean); m < bm || (m == bm && lr < bl) {
				bl, bm = lr, m
			}
		}
		best[k], bestLR[k] = byKeyLR[k][bl], bl
	}
	target := map[string]float64{} // task|r → baseline's mean final training loss
	for _, k := range keys {
		gs := best[k]
		if gs[0].Init != baseline {
			continue
		}
		var fl []float64
		for _, g := range gs {
			fl = append(fl, float64(g.FinalLoss))
		}
		target[fmt.Sprintf("%s|%d", gs[0].Task, gs[0].R)] = float64(statOf(fl).Mean)
	}
	var cells []GridCell
	for _, k := range keys {
		gs := best[k]
		var el, acc, it, is, st, ps, early []float64
		tgt, hasTarget := target[fmt.Sprintf("%s|%d", gs[0].Task, gs[0].R)]
		for _, g := range gs {
			el, acc, it = append(el, float64(g.EvalLoss)), append(acc, float64(g.Accuracy)), append(it, float64(g.InitSeconds))
			is = append(is, g.initSteps())
			early = append(early, windowMean(g.Losses, earlyStep(len(g.Losses)), earlyWindow))
			if g.Params > 0 {
				ps = append(ps, float64(g.Params))
			}
			steps := math.NaN()
			if hasTarget {
				steps = stepsToLoss(g.Losses, tgt, earlyWindow)
			}
			st = append(st, steps)
		}
		g0 := gs[0]
		cells = append(cells, GridCell{Task: g0.Task, Init: g0.Init, R: g0.R, CalibExamples: g0.CalibExamples, CalibDomain: g0.CalibDomain,
			BestLR: bestLR[k], Seeds: len(gs), EvalLoss: statOf(el), Accuracy: statOf(acc), InitSeconds: statOf(it), InitSteps: statOf(is), StepsToTarget: statOf(st), EarlyLoss: statOf(early), Params: statOf(ps)})
	}
	return cells
}

// earlyWindow is the number of steps that the windowed training losses average.
const earlyWindow = 10

// earlyStep is the step at a quarter of a budget of steps (at least the window's length).
func earlyStep(steps int) int { return max(steps/4, earlyWindow) }

// windowMean is the mean loss of the window steps that end at step end (1-based; NaN when the run
// has fewer steps).
func windowMean(losses []Float, end, window int) float64 {
	if end < window || end > len(losses) {
		return math.NaN()
	}
	s := 0.0
	for _, v := range losses[end-window : end] {
		s += float64(v)
	}
	return s / float64(window)
}

// stepsToLoss is the first step whose windowed mean loss is at or below target (NaN if never).
func stepsToLoss(losses []Float, target float64, window int) float64 {
	for end := window; end <= len(losses); end++ {
		if windowMean(losses, end, window) <= target {
			return float64(end)
		}
	}
	return math.NaN()
}
