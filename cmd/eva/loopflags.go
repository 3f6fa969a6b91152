package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/eva-lora/eva/train"
)

// loopFlags are the data, optimizer, schedule and checkpoint flags that eva train and eva pretrain
// share.
type loopFlags struct {
	data, evalData, out, schedule                                string
	valFraction, lr, warmupRatio, weightDecay, beta1, beta2, eps float64
	maxGradNorm                                                  float64
	epochs, steps, batchSize, gradAccum, maxLen, warmup          int
	evalEvery, saveEvery, keep                                   int
	seed                                                         uint64
	resume                                                       bool
	flags                                                        *flag.FlagSet
}

// register declares the flags with the command's defaults for the learning rate, batch size and
// checkpoint interval.
func (o *loopFlags) register(fs *flag.FlagSet, lr float64, batchSize, saveEvery int) {
	def := train.DefaultConfig()
	o.flags = fs
	fs.StringVar(&o.data, "data", "", "training data, a JSONL `file`")
	fs.StringVar(&o.evalData, "eval-data", "", "held-out JSONL `file` (default: --val-fraction of --data)")
	fs.Float64Var(&o.valFraction, "val-fraction", 0.1, "fraction of --data held out for evaluation when --eval-data is not given (0 = none)")
	fs.StringVar(&o.out, "out", "", "output `dir`ectory")
	fs.Float64Var(&o.lr, "lr", lr, "peak learning rate")
	fs.IntVar(&o.epochs, "epochs", 1, "epochs over the training split (when --steps is 0)")
	fs.IntVar(&o.steps, "steps", 0, "optimizer steps (0 = from --epochs)")
	fs.IntVar(&o.batchSize, "batch-size", batchSize, "sequences per micro-batch")
	fs.IntVar(&o.gradAccum, "grad-accum", 1, "micro-batches per optimizer step")
	fs.IntVar(&o.maxLen, "max-length", 256, "sequence length: text is packed to it, other examples truncated")
	fs.IntVar(&o.warmup, "warmup", 0, "warm-up steps")
	fs.Float64Var(&o.warmupRatio, "warmup-ratio", 0, "warm-up as a fraction of the steps (instead of --warmup)")
	fs.StringVar(&o.schedule, "schedule", def.Schedule, "learning-rate schedule: "+strings.Join(train.ScheduleKinds(), ", "))
	fs.Float64Var(&o.weightDecay, "weight-decay", 0, "AdamW decoupled weight decay")
	fs.Float64Var(&o.beta1, "beta1", def.AdamW.Beta1, "AdamW β1")
	fs.Float64Var(&o.beta2, "beta2", def.AdamW.Beta2, "AdamW β2")
	fs.Float64Var(&o.eps, "eps", def.AdamW.Eps, "AdamW ε")
	fs.Float64Var(&o.maxGradNorm, "max-grad-norm", def.MaxGradNorm, "clip the global gradient norm (0 = off)")
	fs.IntVar(&o.evalEvery, "eval-every", 0, "evaluate every N steps (0 = at the end only)")
	fs.IntVar(&o.saveEvery, "save-every", saveEvery, "checkpoint every N steps (and at the end)")
	fs.IntVar(&o.keep, "keep-checkpoints", def.KeepCheckpoints, "checkpoints to keep")
	fs.Uint64Var(&o.seed, "seed", 42, "seed of the data order, the split, random inits and dropout")
	fs.BoolVar(&o.resume, "resume", false, "continue the run in --out from its last checkpoint")
}

func (o *loopFlags) validate() error {
	switch {
	case o.data == "" || o.out == "":
		return errors.New("--data and --out are required")
	case !(o.lr > 0):
		return fmt.Errorf("--lr %v: the learning rate must be > 0", o.lr)
	case o.batchSize < 1 || o.gradAccum < 1 || o.maxLen < 2 || o.epochs < 1 || o.steps < 0:
		return errors.New("--batch-size, --grad-accum and --epochs must be ≥ 1, --max-length ≥ 2 and --steps ≥ 0")
	case !(o.valFraction >= 0 && o.valFraction < 1):
		return fmt.Errorf("--val-fraction %v: want [0, 1)", o.valFraction)
	case o.warmup > 0 && o.warmupRatio > 0:
		return errors.New("give --warmup or --warmup-ratio, not both")
	}
	return nil
}

// trainConfig turns the flags into a training configuration; --steps 0 means --epochs passes over
// batchesPerEpoch micro-batches.
func (o *loopFlags) trainConfig(batchesPerEpoch int) (train.Config, error) {
	steps := o.steps
	if steps == 0 {
		steps = max(o.epochs*batchesPerEpoch/o.gradAccum, 1)
	}
	cfg := train.Config{Steps: steps, GradAccum: o.gradAccum, LR: o.lr, Schedule: o.schedule, Warmup: o.warmup,
		AdamW:       train.AdamWConfig{Beta1: o.beta1, Beta2: o.beta2, Eps: o.eps, WeightDecay: o.weightDecay},
		MaxGradNorm: o.maxGradNorm, EvalEvery: o.evalEvery, SaveEvery: o.saveEvery, KeepCheckpoints: o.keep, Seed: o.seed}
	if o.warmupRatio > 0 {
		var err error
		if cfg.Warmup, err = train.WarmupSteps(o.warmupRatio, steps); err != nil {
			return cfg, err
		}
	}
	return cfg, cfg.Validate()
}
