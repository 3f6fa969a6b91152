package bench

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/datasets"
)

// GridResults are the runs of a grid suite (ranks, calibration, directions) with their summary.
type GridResults struct {
	Suite string     `json:"suite"`
	Env   GridEnv    `json:"env"`
	Runs  []GridRun  `json:"runs"`
	Cells []GridCell `json:"cells"`
	// Complete is false for one shard's part (join the parts with `eva bench merge`) and while
	// runs are missing (a checkpoint of an unfinished run).
	Complete bool `json:"complete"`
	// Shard and Shards say which part of the grid this is (Shards 1: all of it); Total is the
	// number of runs in the whole grid, so that a merge can tell when some are missing.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	Total  int `json:"total"`
}

// grid describes a grid suite: its runs and the baseline of steps-to-target.
type grid struct {
	name, description, baseline string
	runs                        func(quick bool, seeds int) []GridRun
	calib                       func(env GridEnv) func(GridRun, data.Encoder) ([]data.Example, error)
}

func (g grid) suite() Suite {
	return Suite{Name: g.name, Description: g.description, Run: func(ctx context.Context, opts Options) (Results, error) {
		env, err := defaultGridEnv(opts)
		if err != nil {
			return nil, err
		}
		seeds := opts.Seeds
		if seeds < 1 {
			seeds = 3
		}
		var calib func(GridRun, data.Encoder) ([]data.Example, error)
		if g.calib != nil {
			calib = g.calib(env)
		}
		all := g.runs(opts.Quick, seeds)
		shards := max(opts.Shards, 1)
		res := &GridResults{Suite: g.name, Env: env, Shard: opts.Shard, Shards: shards, Total: len(all)}
		if err := res.resume(opts.Resume, all); err != nil {
			return nil, err
		}
		checkpoint := func(runs []GridRun) error {
			res.Runs = runs
			res.Cells = summarise(runs, g.baseline)
			if opts.Checkpoint == nil {
				return nil
			}
			return opts.Checkpoint(res)
		}
		runs, err := runGrid(ctx, opts, env, all, res.Runs, calib, checkpoint)
		if err != nil {
			return nil, err
		}
		res.Runs, res.Cells = runs, summarise(runs, g.baseline)
		res.Complete = shards == 1
		return res, nil
	}}
}

// resume takes over the runs of prev, an unfinished result of the same suite, shard and settings,
// that are still among this shard's runs of all (a grid whose learning rates changed drops the others).
func (r *GridResults) resume(prev *GridResults, all []GridRun) error {
	if prev == nil {
		return nil
	}
	a, b := prev.Env, r.Env
	switch {
	case prev.Suite != r.Suite:
		return fmt.Errorf("resume: the earlier result is of suite %s, not %s", prev.Suite, r.Suite)
	case prev.Shard != r.Shard || prev.Shards != r.Shards || prev.Total != r.Total:
		return fmt.Errorf("resume: the earlier result is shard %d/%d of %d runs, this is %d/%d of %d (other --shard or --seeds?)",
			prev.Shard, prev.Shards, prev.Total, r.Shard, r.Shards, r.Total)
	case a != b:
		return fmt.Errorf("resume: the earlier result used other settings (%+v, now %+v)", a, b)
	}
	mine := map[string]bool{}
	for i, g := range all {
		if ownsRun(i, r.Shard, r.Shards) {
			mine[g.id()] = true
		}
	}
	r.Runs = nil
	for _, g := range prev.Runs {
		if mine[g.id()] {
			r.Runs = append(r.Runs, g)
		}
	}
	return nil
}

// rankGrid is the `ranks` suite: r × init × seed × learning rate on two tasks.
var rankGrid = grid{
	name:        "ranks",
	description: "rank r ∈ {2,4,8,16,64} × init (kaiming, gaussian, EVA ρ 1 and 2, PiSSA, OLoRA, MiLoRA, CorDA, LoRA-GA) × seeds × 2 learning rates per init family, on spam and arithmetic",
	baseline:    "kaiming",
	runs: func(quick bool, seeds int) []GridRun {
		inits := []string{"kaiming", "gaussian", "eva-rho1", "eva-rho2", "pissa", "olora", "milora", "corda", "lora-ga"}
		if quick {
			inits = []string{"kaiming", "eva-rho2", "pissa"}
		}
		return crossRuns(inits, quick, seeds)
	},
}

// gridTasks and gridRanks are the tasks and ranks of the ranks and directions suites. spam
// (classification, accuracy over its two labels) and arithmetic (multi-step word problems,
// exact-match answers: the GSM8K-like stand-in of the paper's math setting). sotu-party was the
// second task first; at this budget every init stayed at chance accuracy on it (0.42–0.58 in 40 runs
// at r 2, 4 and 64; the first 100 test items are 56 % Republican), so it could not tell inits apart.
var (
	gridTasks = []string{"spam", "arithmetic"}
	gridRanks = []int{2, 4, 8, 16, 64}
)

// gridRates are the learning rates an init sweeps in those suites (one with quick). Inits that start
// with B = 0 (kaiming, gaussian, orthonormal, EVA) sweep higher rates than those that move part of W0
// into the adapter (PiSSA, OLoRA, MiLoRA, CorDA, LoRA-GA), whose factors carry large singular values
// and diverge at rates the others need (a first pass: CorDA r 2 on spam ends at validation loss 4.9
// with 4·10⁻³, 2.8 with 10⁻³, kaiming 0.36 with 4·10⁻³; 2.5·10⁻⁴ was too slow: OLoRA r 2 at 3.1
// against 0.35 with 10⁻³).
func gridRates(init string, quick bool) []float64 {
	switch {
	case quick:
		return []float64{2e-3}
	case init == "kaiming" || init == "gaussian" || init == "orthonormal" || strings.HasPrefix(init, "eva"):
		return []float64{1e-3, 4e-3}
	}
	return []float64{1e-3, 2e-3}
}

// crossRuns lists every task × rank × init × learning rate × seed of the ranks grids, in that
// nesting (quick: the first task at r 4).
func crossRuns(inits []string, quick bool, seeds int) []GridRun {
	tasks, ranks := gridTasks, gridRanks
	if quick {
		tasks, ranks = tasks[:1], []int{4}
	}
	var runs []GridRun
	for _, t := range tasks {
		for _, r := range ranks {
			for _, in := range inits {
				for _, lr := range gridRates(in, quick) {
					for s := range seeds {
						runs = append(runs, GridRun{Task: t, Init: in, R: r, LR: lr, Seed: uint64(s)})
					}
				}
			}
		}
	}
	return runs
}

// directionsGrid is the `directions` suite: EVA's A has unit-norm rows along the data's principal
// directions, kaiming's rows have norm ≈ 0.58 and random directions. Random orthonormal rows (EVA's
// norm, no data) on the ranks suite's tasks, ranks, rates and budget separate the two: compare its
// cells with ranks.md's EVA and kaiming cells (its kaiming runs repeat the ranks suite's).
var directionsGrid = grid{
	name:        "directions",
	description: "random orthonormal A (EVA's row norms without its directions) against kaiming, on the ranks suite's tasks, ranks, learning rates and seeds",
	baseline:    "kaiming",
	runs: func(quick bool, seeds int) []GridRun {
		return crossRuns([]string{"kaiming", "orthonormal"}, quick, seeds)
	},
}

// calibrationGrid is the `calibration` suite: EVA's calibration set size and domain against the
// result and the initialisation time.
var calibrationGrid = grid{
	name:        "calibration",
	description: "EVA with 16 … 1024 calibration examples from the task or from generic text: init time and result (r 8, spam)",
	baseline:    "kaiming",
	runs: func(quick bool, seeds int) []GridRun {
		sizes, domains := []int{16, 64, 256, 1024}, []string{"task", "generic"}
		if quick {
			sizes = []int{16, 64}
		}
		var runs []GridRun
		for s := range seeds {
			runs = append(runs, GridRun{Task: "spam", Init: "kaiming", R: 8, LR: 2e-3, Seed: uint64(s)})
			for _, n := range sizes {
				for _, d := range domains {
					runs = append(runs, GridRun{Task: "spam", Init: "eva-rho2", R: 8, LR: 2e-3, Seed: uint64(s), CalibExamples: n, CalibDomain: d})
				}
			}
		}
		return runs
	},
	calib: func(env GridEnv) func(GridRun, data.Encoder) ([]data.Example, error) {
		var generic []data.Example
		return func(g GridRun, enc data.Encoder) ([]data.Example, error) {
			switch g.CalibDomain {
			case "":
				return nil, nil
			case "task":
				if err := datasets.Ensure(env.DataDir, g.Task, nil); err != nil {
					return nil, err
				}
				exs, err := data.ReadFile(filepath.Join(env.DataDir, g.Task+".train.jsonl"), data.Options{Encoder: enc})
				if err != nil {
					return nil, err
				}
				return exs[:min(g.CalibExamples, len(exs))], nil
			case "generic":
				if generic == nil {
					if err := datasets.Ensure(env.DataDir, "generic", nil); err != nil {
						return nil, err
					}
					var err error
					if generic, err = data.ReadFile(filepath.Join(env.DataDir, "generic.valid.jsonl"), data.Options{Encoder: enc}); err != nil {
						return nil, err
					}
				}
				return generic[:min(g.CalibExamples, len(generic))], nil
			}
			return nil, fmt.Errorf("calibration domain %q", g.CalibDomain)
		}
	},
}

// Markdown renders one table per task: a row per configuration at its best learning rate.
func (r *GridResults) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# eva bench %s\n\n", r.Suite)
	if !r.Complete {
		b.WriteString("**Partial results (one shard).**\n\n")
	}
	fmt.Fprintf(&b, "Model `%s`; %d steps × %d sequences of ≤ %d tokens; %d training and %d test examples per task; "+
		"alpha = 2r; each configuration at its best learning rate (lowest mean validation loss); mean ± std over seeds; "+
		"early loss = mean training loss of the %d steps up to step %d (a quarter of the budget); "+
		"steps to target = first step whose %d-step mean training loss reaches the final loss of kaiming (PEFT's default); "+
		"init / step = init time over the run's mean training-step time (with its one evaluation), in the same process, so it holds "+
		"across machines where the seconds do not.\n\n",
		r.Env.Model, r.Env.Steps, r.Env.BatchSize, r.Env.MaxLen, r.Env.MaxTrain, r.Env.MaxTest,
		earlyWindow, earlyStep(r.Env.Steps), earlyWindow)
	tasks := map[string][]GridCell{}
	var names []string
	for _, c := range r.Cells {
		if tasks[c.Task] == nil {
			names = append(names, c.Task)
		}
		tasks[c.Task] = append(tasks[c.Task], c)
	}
	sort.Strings(names)
	for _, t := range names {
		fmt.Fprintf(&b, "## %s\n\n", t)
		cells := tasks[t]
		sort.SliceStable(cells, func(i, j int) bool {
			if cells[i].R != cells[j].R {
				return cells[i].R < cells[j].R
			}
			return cells[i].CalibExamples < cells[j].CalibExamples
		})
		writePivots(&b, cells)
		b.WriteString("| init | r | calibration | best lr | seeds | validation loss | accuracy | early loss | steps to target | init time (s) | init / step | trainable parameters |\n" +
			"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, c := range cells {
			cal := "task train"
			if c.CalibExamples > 0 {
				cal = fmt.Sprintf("%d %s", c.CalibExamples, c.CalibDomain)
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %g | %d | %s | %s | %s | %s | %s | %s | %s |\n", c.Init, c.R, cal, c.BestLR, c.Seeds,
				fmtStat(c.EvalLoss, "%.4f"), fmtStat(c.Accuracy, "%.3f"), fmtStat(c.EarlyLoss, "%.3f"), fmtStat(c.StepsToTarget, "%.1f")+reached(c), fmtStat(c.InitSeconds, "%.2f"),
				fmtStat(c.InitSteps, "%.1f"), fmtStat(c.Params, "%.0f"))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// writePivots writes, when the cells span several ranks, init × rank tables of the mean validation
// loss, accuracy and steps to target, the best of each column in bold.
func writePivots(b *strings.Builder, cells []GridCell) {
	var ranks []int
	var inits []string
	at := map[string]GridCell{}
	for _, c := range cells {
		if !slices.Contains(ranks, c.R) {
			ranks = append(ranks, c.R)
		}
		if !slices.Contains(inits, c.Init) {
			inits = append(inits, c.Init)
		}
		at[fmt.Sprintf("%s|%d", c.Init, c.R)] = c
	}
	if len(ranks) < 2 {
		return
	}
	sort.Ints(ranks)
	pivots := []struct {
		title, verb string
		value       func(GridCell) float64
		lowerWins   bool
		note        func(GridCell) string // appended to a value, or nil
	}{
		{"validation loss (mean over seeds, best learning rate)", "%.4f", func(c GridCell) float64 { return float64(c.EvalLoss.Mean) }, true, nil},
		{"accuracy", "%.3f", func(c GridCell) float64 { return float64(c.Accuracy.Mean) }, false, nil},
		{"early loss (training loss at a quarter of the budget)", "%.3f", func(c GridCell) float64 { return float64(c.EarlyLoss.Mean) }, true, nil},
		{"steps to the default's final loss (mean over the seeds that reached it)", "%.1f", func(c GridCell) float64 { return float64(c.StepsToTarget.Mean) }, true, reached},
		{"init cost in training steps of the same run", "%.1f", func(c GridCell) float64 { return float64(c.InitSteps.Mean) }, true, nil},
	}
	for _, pv := range pivots {
		fmt.Fprintf(b, "%s:\n\n| init |", pv.title)
		for _, r := range ranks {
			fmt.Fprintf(b, " r %d |", r)
		}
		b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(ranks)) + "\n")
		best := map[int]float64{}
		for _, r := range ranks {
			for _, in := range inits {
				c, ok := at[fmt.Sprintf("%s|%d", in, r)]
				if v := pv.value(c); ok && !math.IsNaN(v) {
					if cur, seen := best[r]; !seen || (pv.lowerWins && v < cur) || (!pv.lowerWins && v > cur) {
						best[r] = v
					}
				}
			}
		}
		for _, in := range inits {
			fmt.Fprintf(b, "| %s |", in)
			for _, r := range ranks {
				c, ok := at[fmt.Sprintf("%s|%d", in, r)]
				v, note := pv.value(c), ""
				if pv.note != nil && ok {
					note = pv.note(c)
				}
				switch {
				case !ok || math.IsNaN(v):
					b.WriteString(" — |")
				case v == best[r]:
					fmt.Fprintf(b, " **"+pv.verb+"**%s |", v, note)
				default:
					fmt.Fprintf(b, " "+pv.verb+"%s |", v, note)
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("Every configuration:\n\n")
}

// reached says, where only some of a configuration's runs reached the target loss, how many did
// (" (1 of 3)"): steps to target averages those runs only.
func reached(c GridCell) string {
	if n := c.StepsToTarget.N; n > 0 && n < c.Seeds {
		return fmt.Sprintf(" (%d of %d)", n, c.Seeds)
	}
	return ""
}

// grids are the registered grid suites by name (for merging shards).
var grids = map[string]grid{rankGrid.name: rankGrid, calibrationGrid.name: calibrationGrid, directionsGrid.name: directionsGrid}

// MergeGrid joins the parts that shards of a grid suite wrote into one complete result.
func MergeGrid(parts []*GridResults) (*GridResults, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge: no parts")
	}
	g, ok := grids[parts[0].Suite]
	if !ok {
		return nil, fmt.Errorf("merge: %q is not a grid suite", parts[0].Suite)
	}
	out := &GridResults{Suite: g.name, Env: parts[0].Env, Complete: true, Shards: 1, Total: parts[0].Total}
	index := g.index(out.Total)
	seen := map[string]bool{}
	var short []string
	for _, p := range parts {
		if p.Suite != g.name {
			return nil, fmt.Errorf("merge: parts of %s and %s", g.name, p.Suite)
		}
		if p.Total != out.Total {
			return nil, fmt.Errorf("merge: parts of grids with %d and %d runs (other --seeds or --quick?)", out.Total, p.Total)
		}
		if p.Env != out.Env {
			return nil, fmt.Errorf("merge: shard %d/%d used other settings (%+v) than shard %d/%d (%+v)", p.Shard, p.Shards, p.Env,
				parts[0].Shard, parts[0].Shards, out.Env)
		}
		if want := shardSize(p.Total, p.Shard, p.Shards); len(p.Runs) != want {
			short = append(short, fmt.Sprintf("shard %d/%d has %d of its %d runs", p.Shard, p.Shards, len(p.Runs), want))
		}
		for _, r := range p.Runs {
			id := r.id()
			if !slices.ContainsFunc(index[id], func(i int) bool { return ownsRun(i, p.Shard, p.Shards) }) {
				return nil, fmt.Errorf("merge: shard %d/%d holds run %s, which is not one of its runs in the present %s grid "+
					"(an older grid's result? running the shard again drops it)", p.Shard, p.Shards, id, g.name)
			}
			if seen[id] {
				return nil, fmt.Errorf("merge: run %s appears twice", id)
			}
			seen[id] = true
			out.Runs = append(out.Runs, r)
		}
	}
	if len(out.Runs) != out.Total {
		if missing := missingShards(parts); missing != "" {
			short = append(short, missing)
		}
		if len(short) == 0 {
			short = append(short, "some shards are missing")
		}
		return nil, fmt.Errorf("merge: %d of the %d runs of %s are there: %s (rerun those shards: they continue where they stopped)",
			len(out.Runs), out.Total, g.name, strings.Join(short, "; "))
	}
	out.Cells = summarise(out.Runs, g.baseline)
	return out, nil
}

// missingShards names the shards of parts[0]'s sharding that have no part ("" when none is
// missing), at most 12 of them.
func missingShards(parts []*GridResults) string {
	n := max(parts[0].Shards, 1)
	have := map[int]bool{}
	for _, p := range parts {
		have[p.Shard] = true
	}
	var names []string
	count := 0
	for k := range n {
		if !have[k] {
			if count++; count <= 12 {
				names = append(names, fmt.Sprint(k))
			}
		}
	}
	if count == 0 {
		return ""
	}
	if count > 12 {
		names = append(names, "…")
	}
	return fmt.Sprintf("%d of %d shards have no result (%s)", count, n, strings.Join(names, ", "))
}

// index maps the id of every run of g's grids with total runs (any seed count, quick or not) to its
// positions in those grids (a quick grid with many seeds can have as many runs as the full one).
func (g grid) index(total int) map[string][]int {
	idx := map[string][]int{}
	for _, quick := range []bool{false, true} {
		for seeds := 1; seeds <= total; seeds++ {
			runs := g.runs(quick, seeds)
			if len(runs) > total {
				break
			}
			if len(runs) == total {
				for i, r := range runs {
					idx[r.id()] = append(idx[r.id()], i)
				}
			}
		}
	}
	return idx
}

// shardSize is the number of the total runs that shard k of n runs (index % n == k).
func shardSize(total, k, n int) int {
	if n <= 1 {
		return total
	}
	return (total - k + n - 1) / n
}
