package train

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/internal/progress"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/tensor"
)

// Batches is a resumable source of training micro-batches (data.Loader is one): it cycles through
// epochs, and Seek returns it to a position that Position reported, after which Next yields
// exactly the batches it yielded from there the first time.
type Batches interface {
	Next() (*data.Batch, error)
	Position() data.Position
	Seek(p data.Position) error
}

// Config is a training run's hyperparameters.
type Config struct {
	// Steps is the number of optimizer steps; GradAccum the micro-batches per step (≥ 1).
	Steps, GradAccum int
	// LR is the peak learning rate; Schedule one of ScheduleKinds; Warmup the warm-up steps.
	LR       float64
	Schedule string
	Warmup   int
	// AdamW holds betas, eps and weight decay.
	AdamW AdamWConfig
	// LoRAPlusRatio multiplies B's learning rate (LoRA+); 0 or 1 switches it off.
	LoRAPlusRatio float64
	// MaxGradNorm clips the global gradient norm (≤ 0: no clipping).
	MaxGradNorm float64
	// EvalEvery, SaveEvery and LogEvery are step intervals (0 = only at the end; LogEvery 0 = 1).
	EvalEvery, SaveEvery, LogEvery int
	// KeepCheckpoints is how many checkpoints to keep (≥ 1).
	KeepCheckpoints int
	// Seed drives dropout masks (data order is the Batches' own business).
	Seed uint64
}

// DefaultConfig returns Hugging Face Trainer-like defaults for LoRA: lr 2e-4, linear decay, clipping
// at 1.0, no warm-up, one micro-batch per step, two checkpoints kept.
func DefaultConfig() Config {
	return Config{Steps: 100, GradAccum: 1, LR: 2e-4, Schedule: "linear", AdamW: DefaultAdamW(),
		MaxGradNorm: 1, KeepCheckpoints: 2}
}

// Validate reports a setting that cannot train.
func (c Config) Validate() error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("train: steps = %d, want ≥ 1", c.Steps)
	case c.GradAccum < 1:
		return fmt.Errorf("train: gradient accumulation = %d, want ≥ 1", c.GradAccum)
	case !(c.LR > 0) || math.IsInf(c.LR, 1):
		return fmt.Errorf("train: learning rate %v, want a finite value > 0", c.LR)
	case c.Warmup < 0 || c.Warmup > c.Steps:
		return fmt.Errorf("train: warm-up %d steps, want 0..%d", c.Warmup, c.Steps)
	case c.LoRAPlusRatio < 0 || math.IsNaN(c.LoRAPlusRatio) || math.IsInf(c.LoRAPlusRatio, 1):
		return fmt.Errorf("train: LoRA+ ratio %v, want a finite value ≥ 0", c.LoRAPlusRatio)
	case c.EvalEvery < 0 || c.SaveEvery < 0 || c.LogEvery < 0:
		return fmt.Errorf("train: eval/save/log intervals must be ≥ 0")
	case c.KeepCheckpoints < 1:
		return fmt.Errorf("train: keep %d checkpoints, want ≥ 1", c.KeepCheckpoints)
	}
	if _, err := NewSchedule(c.Schedule, c.Warmup, c.Steps); err != nil {
		return err
	}
	return c.AdamW.Validate()
}

// Trainer trains the adapters of a model. Build one, then call Run (or Resume).
type Trainer struct {
	// Backend runs the kernels; Model is the frozen base model with Adapters attached.
	Backend  tensor.Backend
	Model    model.Model
	Adapters []*lora.Adapter
	// Trainable, when not empty, lists the parameters to train instead of the adapters' (full
	// training, e.g. pretraining; their gradients must be allocated).
	Trainable []Param
	// Train yields training micro-batches; Eval is the held-out split (may be empty).
	Train Batches
	Eval  []*data.Batch
	// Config holds the hyperparameters.
	Config Config
	// Dir receives checkpoints/, metrics.jsonl and loss.svg.
	Dir string
	// Fingerprint identifies the run's model, data and settings; a resume with a different one is
	// refused.
	Fingerprint string
	// Log receives the progress bar and messages (nil = silent).
	Log io.Writer
	// OnEval, when set, is called after each evaluation with the step and the held-out loss, and may
	// add fields (task accuracy) to the metrics line.
	OnEval func(step int, loss model.Loss) map[string]Float
	// Export, when set, also writes what is being trained in a user-facing format (a PEFT adapter, a
	// Hugging Face checkpoint) into every checkpoint directory.
	Export func(dir string) error

	opt      *AdamW
	sched    Schedule
	lastEval model.Loss // the latest held-out loss and the step it was measured at
	evalStep int
	metrics  *MetricsWriter
	state    runState
}

// runState is what a checkpoint records besides parameters and optimizer moments.
type runState struct {
	Step        int           `json:"step"`
	Position    data.Position `json:"data_position"`
	Tokens      int64         `json:"tokens"`
	Seconds     float64       `json:"seconds"`
	Fingerprint string        `json:"fingerprint"`
	LastLoss    float64       `json:"last_loss"`
}

// Result summarises a finished run.
type Result struct {
	Steps     int
	Tokens    int64
	Seconds   float64
	FinalLoss float64    // mean training loss of the last step
	EvalLoss  model.Loss // on the held-out split at the end (zero Tokens when there is none)
}

// Params lists the trainable tensors of the adapters under their PEFT names (without the
// "base_model.model." prefix): <module>.lora_A.weight, .lora_B.weight and .lora_magnitude_vector.
func Params(adapters []*lora.Adapter) []Param {
	var ps []Param
	for _, a := range adapters {
		n := a.Layer().Name
		ps = append(ps, Param{Name: n + ".lora_A.weight", Value: a.A, Grad: a.GradA},
			Param{Name: n + ".lora_B.weight", Value: a.B, Grad: a.GradB})
		if a.Magnitude != nil {
			ps = append(ps, Param{Name: n + ".lora_magnitude_vector", Value: a.Magnitude, Grad: a.GradMagnitude})
		}
	}
	return ps
}

// params lists the trained parameters: Trainable, or the adapters'.
func (t *Trainer) params() []Param {
	if len(t.Trainable) > 0 {
		return t.Trainable
	}
	return Params(t.Adapters)
}

// setup requests gradients and builds the optimizer (groups as GroupParams makes them: Hugging Face's
// decay rule, and PEFT's LoRA+ rule when a ratio is set) and the schedule.
func (t *Trainer) setup() error {
	if err := t.Config.Validate(); err != nil {
		return err
	}
	if len(t.Adapters) == 0 && len(t.Trainable) == 0 {
		return errors.New("train: nothing to train")
	}
	for _, a := range t.Adapters {
		a.RequestGrads(t.Backend)
	}
	groups, err := GroupParams(t.params(), t.Config.LoRAPlusRatio)
	if err != nil {
		return err
	}
	if t.opt, err = NewAdamW(t.Backend, groups, t.Config.AdamW); err != nil {
		return err
	}
	t.sched, err = NewSchedule(t.Config.Schedule, t.Config.Warmup, t.Config.Steps)
	return err
}

// Run trains from step 0 in a fresh output directory (checkpoints already there are an error: use
// Resume).
func (t *Trainer) Run(ctx context.Context) (Result, error) {
	if err := t.setup(); err != nil {
		return Result{}, err
	}
	if step, _, err := latestCheckpoint(t.Dir); err != nil {
		return Result{}, err
	} else if step >= 0 {
		return Result{}, fmt.Errorf("train: %s already holds a checkpoint (step %d): resume it or choose another output directory", t.Dir, step)
	}
	t.state = runState{Fingerprint: t.Fingerprint, Position: t.Train.Position()}
	var err error
	if t.metrics, err = CreateMetrics(metricsPath(t.Dir)); err != nil {
		return Result{}, err
	}
	defer t.metrics.Close()
	return t.loop(ctx)
}

// Resume continues the run whose latest checkpoint is in t.Dir, bit for bit: parameters, optimizer
// moments, step, data position and metrics are restored and later steps redo exactly what the
// interrupted run would have done. A run killed before its first checkpoint starts again from step
// 0 (the caller must have restored the step-0 adapters).
func (t *Trainer) Resume(ctx context.Context) (Result, error) {
	removeStaleTemporaries(checkpointsDir(t.Dir))
	step, dir, err := latestCheckpoint(t.Dir)
	if err != nil {
		return Result{}, err
	}
	if step < 0 {
		return t.Run(ctx)
	}
	if err := t.setup(); err != nil {
		return Result{}, err
	}
	st, err := t.loadCheckpoint(dir)
	if err != nil {
		return Result{}, err
	}
	t.state = st
	if err := t.Train.Seek(st.Position); err != nil {
		return Result{}, fmt.Errorf("train: resume from %s: %w", dir, err)
	}
	if t.metrics, err = ResumeMetrics(metricsPath(t.Dir), st.Step); err != nil {
		return Result{}, err
	}
	defer t.metrics.Close()
	t.logf("resuming from %s (step %d of %d)\n", dir, st.Step, t.Config.Steps)
	return t.loop(ctx)
}

func (t *Trainer) logf(format string, args ...any) {
	if t.Log != nil {
		fmt.Fprintf(t.Log, format, args...)
	}
}

// dropoutSeed gives every micro-batch its own seed, a function of the run's seed and the position
// only, so a resumed run draws the same masks.
func dropoutSeed(seed uint64, step, micro int) uint64 {
	h := fnv.New64a()
	var b [24]byte
	for i, v := range []uint64{seed, uint64(step), uint64(micro)} {
		for j := range 8 {
			b[8*i+j] = byte(v >> (8 * j))
		}
	}
	h.Write(b[:])
	return h.Sum64()
}

// loop runs the steps from t.state.Step to Config.Steps.
func (t *Trainer) loop(ctx context.Context) (Result, error) {
	c := t.Config
	bar := progress.New(t.Log, "train", c.Steps).From(t.state.Step)
	started := time.Now()
	base := t.state.Seconds
	startTokens := t.state.Tokens
	logEvery := max(c.LogEvery, 1)
	for t.state.Step < c.Steps {
		if err := ctx.Err(); err != nil {
			return Result{}, t.interrupted(err)
		}
		step := t.state.Step + 1
		loss, tokens, err := t.accumulate(step)
		if err != nil {
			return Result{}, t.failed(step, err)
		}
		lr := t.sched.LR(step-1, c.LR)
		norm, err := t.opt.ClipAndStep(lr, c.MaxGradNorm)
		if err != nil {
			return Result{}, t.failed(step, err)
		}
		t.state.Step = step
		t.state.Tokens += int64(tokens)
		t.state.Position = t.Train.Position()
		t.state.LastLoss = loss.Mean()
		t.state.Seconds = base + time.Since(started).Seconds()
		rate := float64(t.state.Tokens-startTokens) / time.Since(started).Seconds()
		if step%logEvery == 0 || step == c.Steps {
			if err := t.metrics.Write(Event{Step: step, Epoch: Float(t.Train.Position().Epoch), Loss: Opt(loss.Mean()), LR: Opt(lr),
				GradNorm: Opt(norm), Tokens: t.state.Tokens, TokensPerS: Opt(rate), ElapsedS: Opt(t.state.Seconds)}); err != nil {
				return Result{}, err
			}
		}
		if (c.EvalEvery > 0 && step%c.EvalEvery == 0) || step == c.Steps {
			if _, err := t.evaluate(step, true); err != nil {
				return Result{}, err
			}
		}
		if (c.SaveEvery > 0 && step%c.SaveEvery == 0) || step == c.Steps {
			if err := t.saveCheckpoint(); err != nil {
				return Result{}, err
			}
		}
		bar.Update(step, fmt.Sprintf("loss %.4f · %.0f tok/s", loss.Mean(), rate))
	}
	bar.Done()
	res := Result{Steps: t.state.Step, Tokens: t.state.Tokens, Seconds: t.state.Seconds, FinalLoss: t.state.LastLoss}
	if len(t.Eval) > 0 {
		if t.evalStep != t.state.Step { // a resumed run that had already finished
			if _, err := t.evaluate(t.state.Step, false); err != nil {
				return Result{}, err
			}
		}
		res.EvalLoss = t.lastEval
	}
	if err := t.metrics.Close(); err != nil {
		return Result{}, err
	}
	events, err := ReadMetrics(metricsPath(t.Dir))
	if err != nil {
		return Result{}, err
	}
	if err := WriteLossPlot(filepath.Join(t.Dir, "loss.svg"), "training loss", []Curve{CurveFromEvents("loss", events)}); err != nil {
		return Result{}, err
	}
	return res, nil
}

// interrupted saves a checkpoint of the last finished step (unless one exists) when the run is
// cancelled (Ctrl-C, SIGTERM), so that --resume loses nothing, and returns the cancellation.
func (t *Trainer) interrupted(cause error) error {
	last, _, err := latestCheckpoint(t.Dir)
	if err == nil && t.state.Step > 0 && last != t.state.Step {
		if err := t.saveCheckpoint(); err != nil {
			return fmt.Errorf("train: interrupted at step %d and the checkpoint failed: %w", t.state.Step, err)
		}
	}
	return fmt.Errorf("train: interrupted after step %d (checkpoint saved; continue with --resume): %w", t.state.Step, cause)
}

// failed turns a step's error into the run's: the checkpoints on disk stay as they are, so the run
// can be resumed from the last good one.
func (t *Trainer) failed(step int, err error) error {
	last, dir, _ := latestCheckpoint(t.Dir)
	where := "no checkpoint was written yet"
	if last >= 0 {
		where = fmt.Sprintf("the last good checkpoint is %s (step %d)", dir, last)
	}
	return fmt.Errorf("train: step %d: %w; stopped, %s", step, err, where)
}

// accumulate runs GradAccum micro-batches forward and backward into freshly zeroed gradients. The
// loss is the mean over every counted token of the whole step (Hugging Face's num_items_in_batch
// normalisation), so accumulating k micro-batches equals one batch k times larger.
func (t *Trainer) accumulate(step int) (model.Loss, int, error) {
	be := t.Backend
	t.opt.ZeroGrad()
	batches := make([]*data.Batch, t.Config.GradAccum)
	total := 0
	for i := range batches {
		b, err := t.Train.Next()
		if err != nil {
			return model.Loss{}, 0, err
		}
		batches[i] = b
		total += model.CountTargets(b.Targets())
	}
	if total == 0 {
		return model.Loss{}, 0, errors.New("no token of this step's batches has a label")
	}
	var loss model.Loss
	tokens := 0
	for i, b := range batches {
		ctx := model.Context(be, b)
		ctx.Training = true
		ctx.Seed = dropoutSeed(t.Config.Seed, step, i)
		targets := model.SelectLabelled(ctx, b.Targets())
		logits, err := t.Model.Forward(ctx, b)
		if err != nil {
			return model.Loss{}, 0, err
		}
		l, dlogits := model.LossGradScaled(be, logits, targets, 1/float32(total))
		if math.IsNaN(l.Sum) || math.IsInf(l.Sum, 0) {
			return model.Loss{}, 0, fmt.Errorf("the training loss is %v", l.Sum)
		}
		t.Model.Backward(ctx, dlogits)
		loss.Sum += l.Sum
		loss.Tokens += l.Tokens
		tokens += b.B * b.S
	}
	return loss, tokens, nil
}

// evaluate computes the held-out loss, keeps it as the latest and, when log is set, records it.
func (t *Trainer) evaluate(step int, log bool) (model.Loss, error) {
	if len(t.Eval) == 0 {
		return model.Loss{}, nil
	}
	l, err := model.Evaluate(t.Backend, t.Model, t.Eval, nil)
	if err != nil {
		return l, fmt.Errorf("train: evaluation at step %d: %w", step, err)
	}
	t.lastEval, t.evalStep = l, step
	if !log {
		return l, nil
	}
	m := Event{Step: step, Epoch: Float(t.Train.Position().Epoch), EvalLoss: Opt(l.Mean())}
	if t.OnEval != nil {
		m.Extra = t.OnEval(step, l)
	}
	return l, t.metrics.Write(m)
}

// TimeSteps runs one untimed step (buffers are allocated then) and n timed optimizer steps, with
// no metrics, evaluation or checkpoints, and returns the mean seconds per timed step. It is for
// benchmarks; Run and Resume are for training.
func (t *Trainer) TimeSteps(n int) (float64, error) {
	if err := t.setup(); err != nil {
		return 0, err
	}
	var start time.Time
	for i := range n + 1 {
		if i == 1 {
			start = time.Now()
		}
		if _, _, err := t.accumulate(i + 1); err != nil {
			return 0, err
		}
		if _, err := t.opt.ClipAndStep(t.sched.LR(i, t.Config.LR), t.Config.MaxGradNorm); err != nil {
			return 0, err
		}
	}
	return time.Since(start).Seconds() / float64(max(n, 1)), nil
}
