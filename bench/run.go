package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/train"
)

// Task is a downstream task: tokenised training and validation examples and, for measuring accuracy,
// test items with the candidate completions (nil Candidates: no accuracy).
type Task struct {
	Name         string
	Train, Valid []data.Example
	Test         []Item
	Candidates   []string
}

// Spec is one training run of a comparison. Runs that differ only in Init see the same data order,
// dropout masks and budget.
type Spec struct {
	// Label names the run in tables and plots.
	Label string
	// ModelDir is the base model (a Hugging Face checkpoint directory).
	ModelDir string
	// Init is the initialisation; R, Alpha, Rho (EVA) and Targets (lora.SelectTargets syntax) the
	// adapter.
	Init    inits.Method
	R       int
	Alpha   float64
	Rho     float64
	Targets string
	// Steps, BatchSize, MaxLen, LR, Warmup and Schedule are the training budget; Seed fixes data
	// order, random inits and dropout; EvalEvery how often the validation loss is measured.
	Steps, BatchSize, MaxLen, Warmup, EvalEvery int
	LR                                          float64
	Schedule                                    string
	Seed                                        uint64
	// MaxNewTokens bounds the greedy answers of tasks without candidates (exact-match accuracy).
	MaxNewTokens int
	// CalibBatches caps the calibration batches of EVA and the other data-driven inits.
	CalibBatches int
	// Calibration, when not nil, replaces the task's training examples as calibration data.
	Calibration []data.Example
	// Out receives the adapter, metrics.jsonl and loss.svg (a fresh directory).
	Out string
	// Log receives progress (nil = silent).
	Log io.Writer
}

// Result is what a run measured.
type Result struct {
	Label string
	// InitSeconds is the time to compute the initialisation (calibration included); TrainSeconds
	// the training time.
	InitSeconds, TrainSeconds float64
	// Events are the run's metrics (training loss per step, validation loss every EvalEvery).
	Events []train.Event
	// EvalLoss is the final validation loss; Accuracy the test accuracy (NaN without candidates).
	EvalLoss, Accuracy float64
	// Ranks are the adapters' ranks in module order (EVA redistributes them); Params is the number
	// of trainable adapter parameters (train.Params: lora_A, lora_B and DoRA magnitudes).
	Ranks  []int
	Params int
}

// LossAt returns the training loss logged at step (NaN when absent).
func (r *Result) LossAt(step int) float64 {
	for _, e := range r.Events {
		if e.Step == step && e.Loss != nil {
			return float64(*e.Loss)
		}
	}
	return math.NaN()
}

// MeanLoss is the mean training loss over the window steps ending at step (NaN when none was
// logged); single steps are noisy.
func (r *Result) MeanLoss(step, window int) float64 {
	s, n := 0.0, 0
	for i := max(step-window+1, 1); i <= step; i++ {
		if v := r.LossAt(i); !math.IsNaN(v) {
			s, n = s+v, n+1
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// StepsTo returns the first step whose training loss, averaged over a window of steps ending there,
// is at or below target, or -1 when the run never gets there.
func (r *Result) StepsTo(target float64, window int) int {
	var recent []float64
	for _, e := range r.Events {
		if e.Loss == nil {
			continue
		}
		recent = append(recent, float64(*e.Loss))
		if len(recent) > window {
			recent = recent[1:]
		}
		if len(recent) == window {
			s := 0.0
			for _, v := range recent {
				s += v
			}
			if s/float64(window) <= target {
				return e.Step
			}
		}
	}
	return -1
}

// Run trains one adapter on a task as spec says and measures it.
func Run(ctx context.Context, spec Spec, task *Task) (*Result, error) {
	be := cpu.New()
	ck, err := models.Open(spec.ModelDir, be)
	if err != nil {
		return nil, err
	}
	if ck.Tokenizer == nil {
		return nil, fmt.Errorf("%s has no tokenizer.json", spec.ModelDir)
	}
	pad := ck.Tokenizer.PadID()
	targets, err := lora.SelectTargets(ck.Model.Linears(), spec.Targets)
	if err != nil {
		return nil, err
	}
	calibExamples := task.Train
	if spec.Calibration != nil {
		calibExamples = spec.Calibration
	}
	calib := data.Batches(calibExamples, spec.BatchSize, spec.MaxLen, pad)
	if spec.CalibBatches > 0 && !spec.Init.EVA() && len(calib) > spec.CalibBatches {
		calib = calib[:spec.CalibBatches]
	}
	ecfg := eva.DefaultConfig()
	ecfg.Rho = spec.Rho
	// EVA calibrates on every token of the examples, not only on the labelled ones (PEFT's default
	// label mask): a task's labels are an answer of a token or two, too few rows for r·ρ components
	// per batch, and the inputs the adapted layers see are mostly the prompt.
	start := time.Now()
	ads, err := train.Initialise(be, ck.Model, train.InitSpec{Method: spec.Init, Targets: targets, R: spec.R, Alpha: spec.Alpha,
		Seed: spec.Seed, EVA: ecfg, UseLabelMask: false, Calibration: calib, Population: len(task.Train),
		BaseModel: spec.ModelDir, Log: spec.Log})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Label, err)
	}
	res := &Result{Label: spec.Label, InitSeconds: time.Since(start).Seconds(), Accuracy: math.NaN()}
	if ads.EVAState != nil && spec.Log != nil {
		if err := ads.EVAState.WriteTable(spec.Log); err != nil {
			return nil, err
		}
	}
	for _, a := range ads.List {
		res.Ranks = append(res.Ranks, a.Rank)
	}
	for _, p := range train.Params(ads.List) {
		res.Params += p.Value.Len()
	}
	loader, err := data.NewLoader(task.Train, data.LoaderConfig{BatchSize: spec.BatchSize, MaxLen: spec.MaxLen, Pad: pad, Seed: spec.Seed})
	if err != nil {
		return nil, err
	}
	cfg := train.DefaultConfig()
	cfg.Steps, cfg.LR, cfg.Warmup, cfg.Schedule, cfg.EvalEvery, cfg.Seed = spec.Steps, spec.LR, spec.Warmup, spec.Schedule, spec.EvalEvery, spec.Seed
	cfg.SaveEvery = spec.Steps
	if err := os.MkdirAll(spec.Out, 0o755); err != nil {
		return nil, err
	}
	tr := &train.Trainer{Backend: be, Model: ck.Model, Adapters: ads.List, Train: loader,
		Eval: data.Batches(task.Valid, spec.BatchSize, spec.MaxLen, pad), Config: cfg, Dir: spec.Out,
		Fingerprint: spec.Label, Log: spec.Log}
	start = time.Now()
	out, err := tr.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Label, err)
	}
	res.TrainSeconds = time.Since(start).Seconds()
	res.EvalLoss = out.EvalLoss.Mean()
	if err := ads.Write(be, spec.Out); err != nil {
		return nil, err
	}
	if res.Events, err = train.ReadMetrics(filepath.Join(spec.Out, "metrics.jsonl")); err != nil {
		return nil, err
	}
	switch {
	case len(task.Test) == 0:
	case len(task.Candidates) > 0:
		if res.Accuracy, err = Accuracy(be, ck.Model, ck.Tokenizer, task.Test, task.Candidates, spec.BatchSize, spec.MaxLen, pad); err != nil {
			return nil, err
		}
	default:
		eos, ok := ck.Tokenizer.EOS()
		if !ok {
			eos = -1
		}
		if res.Accuracy, err = ExactMatch(be, ck.Model, ck.Tokenizer, task.Test, spec.MaxNewTokens, eos); err != nil {
			return nil, err
		}
	}
	return res, nil
}
