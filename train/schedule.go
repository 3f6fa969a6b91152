package train

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Learning-rate schedule names, as Hugging Face transformers spells them (SchedulerType).
const (
	ScheduleConstant           = "constant"
	ScheduleConstantWithWarmup = "constant_with_warmup"
	ScheduleLinear             = "linear"
	ScheduleCosine             = "cosine"
)

// ScheduleKinds lists the valid schedule names.
func ScheduleKinds() []string {
	return []string{ScheduleConstant, ScheduleConstantWithWarmup, ScheduleLinear, ScheduleCosine}
}

// Schedule is a learning-rate schedule of transformers' optimization.py: a multiplier of the base
// learning rate for each optimizer step (torch's LambdaLR). Make one with NewSchedule.
type Schedule struct {
	// Kind is one of ScheduleKinds.
	Kind string
	// Warmup is the number of warmup steps; Total the number of training steps.
	Warmup, Total int
}

// NewSchedule checks the name and the step counts. Warmup and Total must be ≥ 0, and the decaying
// schedules (linear, cosine) need Total ≥ 1.
func NewSchedule(kind string, warmup, total int) (Schedule, error) {
	if !slices.Contains(ScheduleKinds(), kind) {
		return Schedule{}, fmt.Errorf("unknown learning-rate schedule %q (valid: %s)", kind, strings.Join(ScheduleKinds(), ", "))
	}
	if warmup < 0 || total < 0 {
		return Schedule{}, fmt.Errorf("schedule %s: warmup %d and total %d steps must be ≥ 0", kind, warmup, total)
	}
	if (kind == ScheduleLinear || kind == ScheduleCosine) && total < 1 {
		return Schedule{}, fmt.Errorf("schedule %s: needs the total number of training steps (got %d)", kind, total)
	}
	return Schedule{Kind: kind, Warmup: warmup, Total: total}, nil
}

// Factor returns the multiplier for the update that follows step completed updates (0 for the
// first update), exactly as transformers' lr lambdas compute it:
//
//	warmup (all but constant), step < Warmup:  step / max(1, Warmup)
//	constant, constant_with_warmup:            1
//	linear:  max(0, (Total − step) / max(1, Total − Warmup))
//	cosine:  max(0, ½·(1 + cos(π · 2 · 0.5 · progress))), progress = (step − Warmup)/max(1, Total − Warmup)
//
// As in transformers, the first update of a warmup schedule uses a zero learning rate, and the
// cosine is not clamped after Total (it rises again).
func (s Schedule) Factor(step int) float64 {
	if s.Kind != ScheduleConstant && step < s.Warmup {
		return float64(step) / float64(max(1, s.Warmup))
	}
	switch s.Kind {
	case ScheduleLinear:
		return max(0, float64(s.Total-step)/float64(max(1, s.Total-s.Warmup)))
	case ScheduleCosine:
		const cycles = 0.5 // transformers' default num_cycles: half a cosine wave from 1 to 0
		progress := float64(step-s.Warmup) / float64(max(1, s.Total-s.Warmup))
		return max(0, 0.5*(1+math.Cos(math.Pi*cycles*2*progress)))
	}
	return 1
}

// LR returns base·Factor(step): the learning rate of the update after step completed updates.
// torch's LambdaLR multiplies each group's initial rate by the factor, so with LRScale on the group
// the group's rate is base·Factor(step)·LRScale.
func (s Schedule) LR(step int, base float64) float64 { return base * s.Factor(step) }

// LR is a one-call form of NewSchedule(kind, warmup, total).LR(step, base).
func LR(kind string, step, warmup, total int, base float64) (float64, error) {
	s, err := NewSchedule(kind, warmup, total)
	if err != nil {
		return 0, err
	}
	return s.LR(step, base), nil
}

// WarmupSteps converts a warmup ratio into steps as TrainingArguments.get_warmup_steps does:
// ⌈total·ratio⌉. ratio must lie in [0, 1].
func WarmupSteps(ratio float64, total int) (int, error) {
	if !(ratio >= 0 && ratio <= 1) {
		return 0, fmt.Errorf("warmup ratio %v outside [0, 1]", ratio)
	}
	return int(math.Ceil(float64(total) * ratio)), nil
}
