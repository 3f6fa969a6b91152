package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/eva-lora/eva/lora/inits"
)

// SyntheticResults is the outcome of the synthetic suite: every run, the per-method summaries at
// each method's best learning rate, and the verdict per regime and rank.
type SyntheticResults struct {
	Config    SyntheticConfig    `json:"config"`
	Seconds   Float              `json:"seconds"`
	Verdicts  []SyntheticVerdict `json:"verdicts"`
	Summaries []SyntheticSummary `json:"summaries"`
	Runs      []SyntheticRun     `json:"runs"`
}

// SyntheticRun is one training run: a method at one learning rate on one problem draw.
type SyntheticRun struct {
	Regime string `json:"regime"`
	Rank   int    `json:"rank"`
	Method string `json:"method"`
	LR     Float  `json:"lr"`
	Seed   uint64 `json:"seed"`
	// InitSeconds is the initialisation's wall time (statistics and EVA's calibration included,
	// drawing the data excluded); EVABatches the calibration batches EVA used.
	InitSeconds Float `json:"init_seconds"`
	EVABatches  int   `json:"eva_batches,omitempty"`
	// Loss0 is the normalised population loss at step 0 (1 when the model starts at W0).
	Loss0 Float `json:"loss0"`
	// Reachable is the lowest normalised loss a rank-r adapter can reach from this start (offset
	// methods must also carry the part of W0 they removed; see problem.reachable).
	Reachable Float `json:"reachable"`
	// GradB0 is ‖∂L/∂B‖_F at step 0 (population gradient, L unnormalised); GradB0PerA divides it by
	// ‖A₀‖_F, which makes methods with differently scaled A comparable.
	GradB0     Float `json:"grad_b0"`
	GradB0PerA Float `json:"grad_b0_per_a"`
	// OverlapDelta and OverlapSigma are the shares of ΔW's row space and of Σ's top-r directions
	// that A₀'s row space covers (see overlap).
	OverlapDelta Float `json:"overlap_delta"`
	OverlapSigma Float `json:"overlap_sigma"`
	// Final is the normalised population loss after the last step and MeanLoss its mean over the
	// evaluated steps, step 0 included (the area under the loss curve over the budget: it rewards
	// early progress); null when the run diverged. StepsToTarget is the first evaluated step at or
	// below Config.Target (-1: never).
	Final         Float `json:"final"`
	MeanLoss      Float `json:"mean_loss"`
	StepsToTarget int   `json:"steps_to_target"`
	// Curve is the normalised population loss every Config.EvalEvery steps from step 0.
	Curve []Float `json:"curve"`
}

// Stat is a mean and sample standard deviation over N values.
type Stat struct {
	Mean Float `json:"mean"`
	Std  Float `json:"std"`
	N    int   `json:"n"`
}

// newStat summarises vs; N = 0 gives NaN mean and std, N = 1 a zero std.
func newStat(vs []float64) Stat {
	st := Stat{Mean: Float(math.NaN()), Std: Float(math.NaN()), N: len(vs)}
	if len(vs) == 0 {
		return st
	}
	mean := 0.0
	for _, v := range vs {
		mean += v
	}
	mean /= float64(len(vs))
	ss := 0.0
	for _, v := range vs {
		ss += (v - mean) * (v - mean)
	}
	st.Mean, st.Std = Float(mean), 0
	if len(vs) > 1 {
		st.Std = Float(math.Sqrt(ss / float64(len(vs)-1)))
	}
	return st
}

// SyntheticSummary is one method in one regime at one rank, at its best learning rate (lowest
// MeanLoss averaged over the seeds; a diverged seed makes it infinite).
type SyntheticSummary struct {
	Regime string `json:"regime"`
	Rank   int    `json:"rank"`
	Method string `json:"method"`
	LR     Float  `json:"lr"`
	// LREdge is set when the best learning rate is the smallest or largest of the grid.
	LREdge   bool `json:"lr_edge"`
	Final    Stat `json:"final"`
	MeanLoss Stat `json:"mean_loss"`
	// StepsToTarget is over the seeds that reached the target; Seeds counts all seeds.
	StepsToTarget Stat `json:"steps_to_target"`
	Seeds         int  `json:"seeds"`
	Loss0         Stat `json:"loss0"`
	Reachable     Stat `json:"reachable"`
	GradB0        Stat `json:"grad_b0"`
	GradB0PerA    Stat `json:"grad_b0_per_a"`
	OverlapDelta  Stat `json:"overlap_delta"`
	OverlapSigma  Stat `json:"overlap_sigma"`
	InitSeconds   Stat `json:"init_seconds"`
	EVABatches    Stat `json:"eva_batches"`
}

// SyntheticVerdict compares the methods of one regime at one rank by their mean loss over the
// budget (SyntheticRun.MeanLoss), at each method's best learning rate.
type SyntheticVerdict struct {
	Regime string `json:"regime"`
	Rank   int    `json:"rank"`
	// Expected is the method expected to win, "" for "neither EVA nor PiSSA clearly".
	Expected string `json:"expected"`
	// Winner has the lowest mean loss of all methods; CoreWinner among the design's core comparison
	// (kaiming, gaussian, eva, pissa); Clear says that, over at least 2 seeds, the core winner's
	// mean ± std lies below the core runner-up's.
	Winner     string `json:"winner"`
	CoreWinner string `json:"core_winner"`
	Clear      bool   `json:"clear"`
	// Matches says whether the outcome is the expected one; Text explains it with the numbers.
	Matches bool   `json:"matches"`
	Text    string `json:"text"`
}

// coreMethods are the methods that the design's expectation is about (random, PiSSA, EVA).
var coreMethods = []string{"kaiming", "gaussian", "eva", "pissa"}

// summarise fills Summaries and Verdicts from Runs.
func (res *SyntheticResults) summarise() {
	res.Summaries, res.Verdicts = nil, nil
	for _, regime := range syntheticRegimes {
		for _, r := range res.Config.Ranks {
			var sums []SyntheticSummary
			for _, name := range res.Config.Methods {
				if s, ok := res.summary(regime.Key, r, name); ok {
					sums = append(sums, s)
				}
			}
			if len(sums) == 0 {
				continue
			}
			res.Summaries = append(res.Summaries, sums...)
			res.Verdicts = append(res.Verdicts, verdict(regime, r, sums))
		}
	}
}

// summary picks the method's best learning rate in one regime and rank and summarises its seeds.
func (res *SyntheticResults) summary(regime string, r int, method string) (SyntheticSummary, bool) {
	var best SyntheticSummary
	found := false
	lrs := res.Config.LRs
	for li, lr := range lrs {
		var runs []SyntheticRun
		for _, run := range res.Runs {
			if run.Regime == regime && run.Rank == r && run.LR == Float(lr) && canonical(run.Method) == canonical(method) {
				runs = append(runs, run)
			}
		}
		if len(runs) == 0 {
			continue
		}
		s := summariseRuns(runs)
		s.LREdge = len(lrs) > 1 && (li == 0 || li == len(lrs)-1)
		if !found || float64(s.MeanLoss.Mean) < float64(best.MeanLoss.Mean) {
			best, found = s, true
		}
	}
	return best, found
}

// summariseRuns summarises the seeds of one method at one learning rate.
func summariseRuns(runs []SyntheticRun) SyntheticSummary {
	pick := func(f func(SyntheticRun) float64) Stat {
		vs := make([]float64, len(runs))
		for i, run := range runs {
			vs[i] = f(run)
		}
		return newStat(vs)
	}
	var reached []float64
	for _, run := range runs {
		if run.StepsToTarget >= 0 {
			reached = append(reached, float64(run.StepsToTarget))
		}
	}
	finite := func(f func(SyntheticRun) Float) Stat {
		st := pick(func(r SyntheticRun) float64 { return finiteOrInf(float64(f(r))) })
		if math.IsInf(float64(st.Mean), 1) {
			st.Std = Float(math.Inf(1))
		}
		return st
	}
	s := SyntheticSummary{Regime: runs[0].Regime, Rank: runs[0].Rank, Method: runs[0].Method, LR: runs[0].LR,
		Final:         finite(func(r SyntheticRun) Float { return r.Final }),
		MeanLoss:      finite(func(r SyntheticRun) Float { return r.MeanLoss }),
		StepsToTarget: newStat(reached), Seeds: len(runs),
		Loss0:        pick(func(r SyntheticRun) float64 { return float64(r.Loss0) }),
		Reachable:    pick(func(r SyntheticRun) float64 { return float64(r.Reachable) }),
		GradB0:       pick(func(r SyntheticRun) float64 { return float64(r.GradB0) }),
		GradB0PerA:   pick(func(r SyntheticRun) float64 { return float64(r.GradB0PerA) }),
		OverlapDelta: pick(func(r SyntheticRun) float64 { return float64(r.OverlapDelta) }),
		OverlapSigma: pick(func(r SyntheticRun) float64 { return float64(r.OverlapSigma) }),
		InitSeconds:  pick(func(r SyntheticRun) float64 { return float64(r.InitSeconds) }),
		EVABatches:   pick(func(r SyntheticRun) float64 { return float64(r.EVABatches) }),
	}
	return s
}

// finiteOrInf maps NaN (a diverged run) to +Inf so that it loses every comparison.
func finiteOrInf(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(1)
	}
	return v
}

// canonical maps a method name to inits' canonical spelling ("corda" → "corda-ipm").
func canonical(name string) string {
	if m, err := inits.Parse(name); err == nil {
		return m.String()
	}
	return name
}

// clearlyBelow reports whether, over at least 2 values each, a's mean + std lies below b's
// mean − std.
func clearlyBelow(a, b Stat) bool {
	return a.N >= 2 && b.N >= 2 && float64(a.Mean+a.Std) < float64(b.Mean-b.Std)
}

// verdict decides one regime and rank from its summaries.
func verdict(regime synthRegime, r int, sums []SyntheticSummary) SyntheticVerdict {
	v := SyntheticVerdict{Regime: regime.Key, Rank: r, Expected: regime.Expect}
	byLoss := slices.Clone(sums)
	slices.SortStableFunc(byLoss, func(a, b SyntheticSummary) int {
		return cmpFloat(float64(a.MeanLoss.Mean), float64(b.MeanLoss.Mean))
	})
	v.Winner = byLoss[0].Method
	var core []SyntheticSummary
	find := map[string]SyntheticSummary{}
	for _, s := range byLoss {
		find[s.Method] = s
		if slices.Contains(coreMethods, s.Method) {
			core = append(core, s)
		}
	}
	describe := func(s SyntheticSummary) string {
		return fmt.Sprintf("%s %s", s.Method, fmtStat(s.MeanLoss, "%.3g"))
	}
	var b strings.Builder
	if len(core) > 0 {
		v.CoreWinner = core[0].Method
		v.Clear = len(core) > 1 && clearlyBelow(core[0].MeanLoss, core[1].MeanLoss)
	}
	eva, hasEVA := find["eva"]
	pissa, hasPiSSA := find["pissa"]
	switch {
	case regime.Expect != "" && len(core) > 0:
		v.Matches = v.CoreWinner == regime.Expect
		how := "by a margin within one std of"
		if v.Clear {
			how = "clearly ahead of"
		}
		if len(core) > 1 {
			fmt.Fprintf(&b, "Mean loss: among kaiming/gaussian/eva/pissa, %s wins (%s), %s %s", v.CoreWinner, describe(core[0]), how, describe(core[1]))
		} else {
			fmt.Fprintf(&b, "Mean loss: among kaiming/gaussian/eva/pissa, only %s ran (%s)", v.CoreWinner, describe(core[0]))
		}
		if v.Matches {
			fmt.Fprintf(&b, ": as expected (%s should win).", regime.Expect)
		} else {
			fmt.Fprintf(&b, ": NOT as expected (%s should win).", regime.Expect)
		}
	case regime.Expect == "" && hasEVA && hasPiSSA:
		switch {
		case clearlyBelow(eva.MeanLoss, pissa.MeanLoss):
			fmt.Fprintf(&b, "Mean loss: EVA is clearly better than PiSSA (%s vs %s): NOT as expected (neither should win clearly).", describe(eva), describe(pissa))
		case clearlyBelow(pissa.MeanLoss, eva.MeanLoss):
			fmt.Fprintf(&b, "Mean loss: PiSSA is clearly better than EVA (%s vs %s): NOT as expected (neither should win clearly).", describe(pissa), describe(eva))
		default:
			v.Matches = true
			fmt.Fprintf(&b, "Mean loss: neither EVA nor PiSSA is clearly better (%s vs %s): as expected.", describe(eva), describe(pissa))
		}
	default:
		fmt.Fprintf(&b, "The expectation cannot be checked: eva or pissa did not run.")
	}
	if len(core) == 0 || v.Winner != v.CoreWinner {
		fmt.Fprintf(&b, " Best of all methods: %s.", describe(byLoss[0]))
	}
	v.Text = b.String()
	return v
}

// cmpFloat orders floats ascending with NaN last.
func cmpFloat(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fmtStat writes mean ± std with the given verb ("—" without values, "diverged" for +Inf).
func fmtStat(s Stat, verb string) string {
	switch {
	case s.N == 0 || math.IsNaN(float64(s.Mean)):
		return "—"
	case math.IsInf(float64(s.Mean), 1):
		return "diverged"
	case s.N == 1:
		return fmt.Sprintf(verb, float64(s.Mean))
	}
	return fmt.Sprintf(verb+" ± "+verb, float64(s.Mean), float64(s.Std))
}

// Markdown renders the report: settings, the verdicts, and a table per regime and rank.
func (res *SyntheticResults) Markdown() string {
	c := res.Config
	var b strings.Builder
	b.WriteString("# Synthetic linear teacher–student (design D1)\n\n")
	fmt.Fprintf(&b, "- x ∈ R^%d ~ N(0, Σ): %d spiked directions with variances %g → %g (geometric), the other %d at %g; random orthonormal directions.\n",
		c.D, c.Spikes, c.SpikeHigh, c.SpikeLow, c.D-c.Spikes, c.Floor)
	fmt.Fprintf(&b, "- W0: random singular vectors, σ_i = %g·i^−%g. Target W* = W0 + ΔW, rank %d, singular values 1 → 0.5; noise variance %g × W0's loss.\n",
		c.W0Top, c.W0Decay, c.DeltaRank, c.NoiseFrac)
	fmt.Fprintf(&b, "- Student y = (W0' + s·B·A)·x, W0' = W0 − s·B0·A0 for offset methods; s = α/r = %g for every method; MSE; Adam (0.9, 0.999), constant learning rate, the best of %s per method (lowest mean loss); batch %d, %d steps; seeds 1…%d.\n",
		c.Scale, fmtList(c.LRs), c.Batch, c.Steps, c.Seeds)
	fmt.Fprintf(&b, "- Data-driven inits: CorDA's covariance and LoRA-GA/LoRA-One's step-0 gradient from %d calibration batches; EVA (ρ = 1, τ = 0.99) reads the same stream until it converges (≤ %d batches).\n",
		c.CalibBatches, c.EVAMaxBatches)
	fmt.Fprintf(&b, "- Loss: exact population MSE divided by W0's (so 1 at step 0 unless the init moves the model), evaluated every %d steps. "+
		"Mean loss: its mean over the evaluated steps (area under the curve; methods are ranked by it). "+
		"Reachable: the lowest loss a rank-r adapter can reach from the init (Eckart–Young; offset methods must keep carrying the part of W0 they removed, so s·B·A has to become ΔW + s·B0·A0). Steps to %g: first evaluated step at or below it, over the seeds that got there (count). "+
		"‖∂L/∂B‖₀: population gradient at step 0; /‖A₀‖ divides by ‖A₀‖_F. Overlap: share of ΔW's row space covered by A₀'s row space (1 = all; ≈ max(r, %d)/d at random). "+
		"Init: wall time of the initialisation (statistics and EVA's calibration included, drawing data excluded; the faster of two identical runs). "+
		"Values are mean ± std over seeds; ⁺ marks a best learning rate at the edge of the grid.\n",
		c.EvalEvery, c.Target, c.DeltaRank)
	fmt.Fprintf(&b, "- Wall time %.0f s.\n\n", float64(res.Seconds))
	b.WriteString("## Verdicts\n\n| regime | r | expected | best of all | best of kaiming/gaussian/eva/pissa | clear | matches |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, v := range res.Verdicts {
		exp := v.Expected
		if exp == "" {
			exp = "neither clearly"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", regimeShort(v.Regime), v.Rank, exp, v.Winner, v.CoreWinner, yesNo(v.Clear), yesNo(v.Matches))
	}
	b.WriteString("\nThe multi-layer variant (rank redistribution with ρ > 1) is not part of this suite yet.\n")
	for _, regime := range syntheticRegimes {
		fmt.Fprintf(&b, "\n## %s\n", regime.Title)
		for _, r := range c.Ranks {
			var v *SyntheticVerdict
			for i := range res.Verdicts {
				if res.Verdicts[i].Regime == regime.Key && res.Verdicts[i].Rank == r {
					v = &res.Verdicts[i]
				}
			}
			if v == nil {
				continue
			}
			fmt.Fprintf(&b, "\n### r = %d\n\n", r)
			fmt.Fprintf(&b, "| method | lr | mean loss | loss @0 | final loss | reachable | steps to %g | ‖∂L/∂B‖₀ | ‖∂L/∂B‖₀/‖A₀‖ | overlap | init |\n", c.Target)
			b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
			for _, s := range res.Summaries {
				if s.Regime != regime.Key || s.Rank != r {
					continue
				}
				name := s.Method
				if name == v.Winner {
					name = "**" + name + "**"
				}
				edge := ""
				if s.LREdge {
					edge = "⁺"
				}
				steps := fmtStat(s.StepsToTarget, "%.0f") + fmt.Sprintf(" (%d/%d)", s.StepsToTarget.N, s.Seeds)
				init := fmt.Sprintf("%.3g ms", 1000*float64(s.InitSeconds.Mean))
				if s.Method == "eva" {
					init += fmt.Sprintf(", %.0f batches", float64(s.EVABatches.Mean))
				}
				fmt.Fprintf(&b, "| %s | %g%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, float64(s.LR), edge,
					fmtStat(s.MeanLoss, "%.3g"), fmtStat(s.Loss0, "%.3g"), fmtStat(s.Final, "%.3g"), fmtStat(s.Reachable, "%.2g"), steps, fmtStat(s.GradB0, "%.3g"),
					fmtStat(s.GradB0PerA, "%.3g"), fmtStat(s.OverlapDelta, "%.2f"), init)
			}
			fmt.Fprintf(&b, "\n%s\n", v.Text)
		}
	}
	return b.String()
}

func regimeShort(key string) string {
	for _, r := range syntheticRegimes {
		if r.Key == key {
			if i := strings.Index(r.Title, ")"); i > 0 {
				return r.Title[:i+1] + " " + key
			}
		}
	}
	return key
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func fmtList(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%g", v)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
