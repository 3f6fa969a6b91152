package bench

// The synthetic suite: design D1 of docs/paper-and-methods.md §5.2, a linear teacher–student in
// which the best initialisation is known by construction.
//
// Inputs x ∈ R^d are N(0, Σ) with Σ = Floor·I + Σ_k (λ_k − Floor)·q_k·q_kᵀ: a few orthonormal
// "spike" directions q_k of large variance λ_k. The pretrained weight W0 has a power-law spectrum;
// the teacher is W* = W0 + ΔW with ΔW of low rank, and the student trains y = (W0' + s·B·A)·x
// against y* = W*·x + ε with the mean squared error (W0' = W0 − s·B0·A0 for methods that offset).
// The row space of ΔW selects the regime: Σ's top eigenvectors (EVA's A starts on it), W0's top
// right singular vectors (PiSSA's A starts on it) or a random subspace.
//
// The loss that is reported is the population loss, computed exactly from the factors:
// L = (1/out)·tr(M·Σ·Mᵀ) + Var ε with M = W0' + s·B·A − W*, divided by the loss of W0 itself.

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/eva-lora/eva/lora/inits"
)

// syntheticSuite is the registry entry of the synthetic suite.
var syntheticSuite = Suite{
	Name: "synthetic",
	Description: "linear teacher–student with a spiked input covariance (design D1): " +
		"does EVA win when ΔW lies along Σ's top directions, PiSSA when it lies along W0's?",
	Run: func(ctx context.Context, opts Options) (Results, error) {
		cfg := DefaultSyntheticConfig(opts.Quick)
		if opts.Seeds > 0 {
			cfg.Seeds = opts.Seeds
		}
		return RunSynthetic(ctx, cfg, opts.Log)
	},
}

// SyntheticConfig sets the sizes and budget of the synthetic suite.
type SyntheticConfig struct {
	// D is the layer's input and output width.
	D int `json:"d"`
	// Spikes is the number of high-variance directions of Σ; their variances fall geometrically
	// from SpikeHigh to SpikeLow, and every other direction has variance Floor.
	Spikes    int     `json:"spikes"`
	SpikeHigh float64 `json:"spike_high"`
	SpikeLow  float64 `json:"spike_low"`
	Floor     float64 `json:"floor"`
	// W0's singular values are W0Top·i^(−W0Decay), i = 1…D.
	W0Top   float64 `json:"w0_top"`
	W0Decay float64 `json:"w0_decay"`
	// DeltaRank is the rank of ΔW; its singular values fall linearly from 1 to 1/2.
	DeltaRank int `json:"delta_rank"`
	// NoiseFrac is the variance of the target noise ε as a fraction of W0's noiseless loss.
	NoiseFrac float64 `json:"noise_frac"`
	// Ranks are the LoRA ranks compared; Scale is s = α/r, the same for every method and rank.
	Ranks []int   `json:"ranks"`
	Scale float64 `json:"scale"`
	// Methods are the initialisations (inits.Parse names).
	Methods []string `json:"methods"`
	// LRs is the Adam learning-rate grid every method is swept over; the learning rate with the
	// lowest mean final loss is reported.
	LRs []float64 `json:"lrs"`
	// Steps is the training budget, Batch the batch size, EvalEvery how often the population loss
	// is computed.
	Steps     int `json:"steps"`
	Batch     int `json:"batch"`
	EvalEvery int `json:"eval_every"`
	// Seeds is the number of seeds (problem draws, data streams and random inits): 1…Seeds.
	Seeds int `json:"seeds"`
	// CalibBatches batches give CorDA's covariance and LoRA-GA's and LoRA-One's step-0 gradient; EVA
	// reads the same stream until its components converge, at most EVAMaxBatches batches.
	CalibBatches  int `json:"calib_batches"`
	EVAMaxBatches int `json:"eva_max_batches"`
	// Target is the normalised loss whose first crossing "steps to target" reports.
	Target float64 `json:"target"`
}

// DefaultSyntheticConfig returns the full configuration (d = 256, r ∈ {4, 8, 16}, 300 steps, 3
// seeds, learning rates {0.003, 0.01, 0.03}) or, with quick, a reduced one (d = 64, r = 8, 150
// steps, learning rates {0.01, 0.03, 0.1}).
func DefaultSyntheticConfig(quick bool) SyntheticConfig {
	cfg := SyntheticConfig{
		D: 256, Spikes: 16, SpikeHigh: 20, SpikeLow: 5, Floor: 0.1,
		W0Top: 2, W0Decay: 0.5, DeltaRank: 8, NoiseFrac: 1e-3,
		Ranks: []int{4, 8, 16}, Scale: 1,
		Methods: []string{"kaiming", "gaussian", "eva", "pissa", "olora", "milora", "corda", "lora-ga", "lora-one"},
		LRs:     []float64{3e-3, 1e-2, 3e-2},
		Steps:   300, Batch: 256, EvalEvery: 5, Seeds: 3,
		CalibBatches: 8, EVAMaxBatches: 200, Target: 0.1,
	}
	if quick {
		// A smaller layer learns faster: its best learning rates lie higher.
		cfg.D, cfg.Ranks, cfg.Steps, cfg.CalibBatches = 64, []int{8}, 150, 4
		cfg.LRs = []float64{1e-2, 3e-2, 1e-1}
	}
	return cfg
}

// validate checks the configuration before anything runs.
func (c SyntheticConfig) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("synthetic suite: "+format, args...)
	}
	switch {
	case c.D < 2:
		return bad("d = %d, want ≥ 2", c.D)
	case c.Spikes < 1 || c.Spikes > c.D:
		return bad("%d spikes, want 1…d = %d", c.Spikes, c.D)
	case c.DeltaRank < 1 || c.DeltaRank > c.Spikes:
		return bad("ΔW rank %d, want 1…spikes = %d (regime (i) puts ΔW on the top spikes)", c.DeltaRank, c.Spikes)
	case !(c.Floor > 0) || !(c.SpikeLow > c.Floor) || !(c.SpikeHigh >= c.SpikeLow) || math.IsInf(c.SpikeHigh, 0):
		return bad("variances floor %g, spikes %g…%g: want 0 < floor < low ≤ high < ∞", c.Floor, c.SpikeLow, c.SpikeHigh)
	case !(c.W0Top > 0) || c.W0Decay < 0 || math.IsInf(c.W0Top, 0):
		return bad("W0 spectrum %g·i^(−%g): want a positive top and a non-negative decay", c.W0Top, c.W0Decay)
	case !(c.NoiseFrac >= 0) || math.IsInf(c.NoiseFrac, 0):
		return bad("noise fraction %g, want ≥ 0", c.NoiseFrac)
	case !(c.Scale > 0) || math.IsInf(c.Scale, 0):
		return bad("scale s = %g, want > 0", c.Scale)
	case len(c.Ranks) == 0 || len(c.Methods) == 0 || len(c.LRs) == 0:
		return bad("need at least one rank, method and learning rate")
	case c.Steps < 1 || c.Batch < 1 || c.EvalEvery < 1 || c.Seeds < 1:
		return bad("steps %d, batch %d, eval every %d, seeds %d: want all ≥ 1", c.Steps, c.Batch, c.EvalEvery, c.Seeds)
	case c.Steps%c.EvalEvery != 0:
		return bad("steps %d is not a multiple of eval every %d (the final loss must be evaluated)", c.Steps, c.EvalEvery)
	case c.CalibBatches < 1 || c.EVAMaxBatches < 1:
		return bad("calibration batches %d, EVA batch cap %d: want ≥ 1", c.CalibBatches, c.EVAMaxBatches)
	case !(c.Target > 0 && c.Target < 1):
		return bad("target %g, want 0 < target < 1", c.Target)
	}
	for _, r := range c.Ranks {
		if r < 1 || 2*r > c.D {
			return bad("rank %d, want 1 ≤ r ≤ d/2 = %d (LoRA-GA uses 2r singular triplets)", r, c.D/2)
		}
	}
	for _, lr := range c.LRs {
		if !(lr > 0) || math.IsInf(lr, 0) {
			return bad("learning rate %g, want > 0", lr)
		}
	}
	for _, name := range c.Methods {
		if _, err := inits.Parse(name); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// synthRegime is one choice of ΔW's row space.
type synthRegime struct {
	// Key names the regime in JSON; Title in the report; Expect is the method expected to win
	// ("" = neither EVA nor PiSSA clearly).
	Key, Title, Expect string
}

// syntheticRegimes are the three regimes of design D1.
var syntheticRegimes = []synthRegime{
	{Key: "sigma", Title: "(i) ΔW's row space = Σ's top eigenvectors", Expect: "eva"},
	{Key: "w0", Title: "(ii) ΔW's row space = W0's top right singular vectors", Expect: "pissa"},
	{Key: "random", Title: "(iii) ΔW's row space random", Expect: ""},
}

// RunSynthetic runs the synthetic suite: every regime, rank and seed, every method at every
// learning rate, on identical data streams. log receives a line per (regime, rank, seed).
func RunSynthetic(ctx context.Context, cfg SyntheticConfig, log io.Writer) (*SyntheticResults, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
	}
	out := &SyntheticResults{Config: cfg}
	start := time.Now()
	for _, regime := range syntheticRegimes {
		for _, r := range cfg.Ranks {
			for seed := uint64(1); seed <= uint64(cfg.Seeds); seed++ {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				t := time.Now()
				runs, err := runSyntheticGroup(ctx, cfg, regime, r, seed)
				if err != nil {
					return nil, fmt.Errorf("synthetic suite, regime %s, r = %d, seed %d: %w", regime.Key, r, seed, err)
				}
				out.Runs = append(out.Runs, runs...)
				fmt.Fprintf(log, "synthetic: regime %s, r = %d, seed %d: %d runs in %.1f s\n", regime.Key, r, seed, len(runs), time.Since(t).Seconds())
			}
		}
	}
	out.Seconds = Float(time.Since(start).Seconds())
	out.summarise()
	return out, nil
}

// runSyntheticGroup trains every method at every learning rate on one problem draw, in lock step
// on one data stream.
func runSyntheticGroup(ctx context.Context, cfg SyntheticConfig, regime synthRegime, r int, seed uint64) ([]SyntheticRun, error) {
	p, err := newProblem(cfg, regime, seed)
	if err != nil {
		return nil, err
	}
	cal := &calibration{p: p, rng: rand.New(rand.NewPCG(seed, 0x63616c6962)), n: cfg.Batch} // "calib"
	var runs []SyntheticRun
	var models []*synthAdapter
	for _, name := range cfg.Methods {
		method, err := inits.Parse(name)
		if err != nil {
			return nil, err
		}
		// The init runs twice (deterministically: same seeds, same cached calibration batches) and
		// the faster time counts: the first run can absorb warm-up and BLAS threads still busy with
		// the previous work, which would distort millisecond timings.
		res, spent, batches, err := cal.initialise(cfg, method, r, seed)
		if err != nil {
			return nil, err
		}
		if _, again, _, err := cal.initialise(cfg, method, r, seed); err == nil {
			spent = min(spent, again)
		}
		base := SyntheticRun{Regime: regime.Key, Rank: r, Method: method.String(), Seed: seed,
			InitSeconds: Float(spent.Seconds()), EVABatches: batches}
		if err := p.describeInit(&base, res, cfg.Scale); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		for _, lr := range cfg.LRs {
			run := base
			run.LR = Float(lr)
			runs = append(runs, run)
			models = append(models, newSynthAdapter(res, cfg.Scale, lr))
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x747261696e)) // "train"
	if err := p.train(ctx, rng, cfg, models); err != nil {
		return nil, err
	}
	for i, m := range models {
		runs[i].Curve = m.curve
		runs[i].Final = m.curve[len(m.curve)-1]
		runs[i].MeanLoss = meanOf(m.curve)
		runs[i].StepsToTarget = stepsTo(m.curve, cfg.EvalEvery, cfg.Target)
	}
	return runs, nil
}

// meanOf returns the mean of vs (+Inf when one is not finite).
func meanOf(vs []Float) Float {
	sum := 0.0
	for _, v := range vs {
		sum += finiteOrInf(float64(v))
	}
	return Float(sum / float64(len(vs)))
}

// stepsTo returns the first evaluated step whose loss is at or below target, or -1.
func stepsTo(curve []Float, every int, target float64) int {
	for i, v := range curve {
		if float64(v) <= target {
			return i * every
		}
	}
	return -1
}
