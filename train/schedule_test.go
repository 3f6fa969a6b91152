package train

import (
	"math"
	"strings"
	"testing"
)

// Values worked out by hand from transformers' lr lambdas (optimization.py) with warmup 10 and
// 110 training steps, so the decay phase is 100 steps long.
func TestScheduleValues(t *testing.T) {
	cases := []struct {
		kind string
		step int
		want float64
	}{
		{ScheduleLinear, 0, 0},    // the first update of a warmup schedule has lr 0
		{ScheduleLinear, 5, 0.5},  // halfway through warmup
		{ScheduleLinear, 10, 1},   // warmup end: the base rate
		{ScheduleLinear, 60, 0.5}, // (110−60)/100
		{ScheduleLinear, 110, 0},
		{ScheduleLinear, 150, 0}, // clamped at 0 after the end
		{ScheduleCosine, 0, 0},
		{ScheduleCosine, 10, 1},
		{ScheduleCosine, 35, 0.5 * (1 + math.Sqrt2/2)}, // progress ¼: ½(1 + cos π/4)
		{ScheduleCosine, 60, 0.5},                      // progress ½: ½(1 + cos π/2)
		{ScheduleCosine, 110, 0},                       // progress 1: ½(1 + cos π)
		{ScheduleCosine, 210, 1},                       // not clamped: progress 2 is a full wave
		{ScheduleConstantWithWarmup, 3, 0.3},
		{ScheduleConstantWithWarmup, 10, 1},
		{ScheduleConstantWithWarmup, 500, 1},
		{ScheduleConstant, 0, 1}, // constant ignores warmup, as get_constant_schedule does
		{ScheduleConstant, 500, 1},
	}
	for _, c := range cases {
		s, err := NewSchedule(c.kind, 10, 110)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.LR(c.step, 2e-4); math.Abs(got-2e-4*c.want) > 1e-15 {
			t.Errorf("%s step %d: lr %v, want %v", c.kind, c.step, got, 2e-4*c.want)
		}
	}
}

func TestScheduleWithoutWarmup(t *testing.T) {
	for _, kind := range ScheduleKinds() {
		s, _ := NewSchedule(kind, 0, 4)
		if f := s.Factor(0); f != 1 {
			t.Errorf("%s without warmup starts at %v, want 1", kind, f)
		}
	}
	s, _ := NewSchedule(ScheduleLinear, 0, 4)
	for step, want := range []float64{1, 0.75, 0.5, 0.25, 0} {
		if f := s.Factor(step); f != want {
			t.Errorf("linear step %d: %v, want %v", step, f, want)
		}
	}
}

// The linear schedule decreases monotonically after warmup and the cosine one stays in [0, 1].
func TestScheduleShape(t *testing.T) {
	lin, _ := NewSchedule(ScheduleLinear, 7, 53)
	cos, _ := NewSchedule(ScheduleCosine, 7, 53)
	for step := 0; step <= 53; step++ {
		if step > 7 && lin.Factor(step) >= lin.Factor(step-1) {
			t.Errorf("linear not decreasing at step %d", step)
		}
		if step > 7 && cos.Factor(step) >= cos.Factor(step-1) {
			t.Errorf("cosine not decreasing at step %d", step)
		}
		if f := cos.Factor(step); f < 0 || f > 1 {
			t.Errorf("cosine factor %v at step %d", f, step)
		}
	}
}

func TestScheduleValidation(t *testing.T) {
	_, err := NewSchedule("cosine_with_restarts", 0, 10)
	if err == nil || !strings.Contains(err.Error(), "constant_with_warmup") || !strings.Contains(err.Error(), "cosine_with_restarts") {
		t.Errorf("unknown schedule: error %v, want the name and the valid names", err)
	}
	for _, bad := range [][2]int{{-1, 10}, {0, -1}} {
		if _, err := NewSchedule(ScheduleConstant, bad[0], bad[1]); err == nil {
			t.Errorf("warmup %d total %d accepted", bad[0], bad[1])
		}
	}
	if _, err := NewSchedule(ScheduleCosine, 0, 0); err == nil {
		t.Error("cosine without total steps accepted")
	}
	if lr, err := LR(ScheduleLinear, 60, 10, 110, 1); err != nil || lr != 0.5 {
		t.Errorf("LR = %v, %v; want 0.5", lr, err)
	}
	if _, err := LR("bogus", 0, 0, 1, 1); err == nil {
		t.Error("LR accepted an unknown schedule")
	}
}

func TestWarmupSteps(t *testing.T) {
	for _, c := range []struct {
		ratio       float64
		total, want int
	}{{0.1, 105, 11}, {0.1, 100, 10}, {0, 100, 0}, {0.03, 1000, 30}} {
		if got, err := WarmupSteps(c.ratio, c.total); err != nil || got != c.want {
			t.Errorf("WarmupSteps(%v, %d) = %d, %v; want %d", c.ratio, c.total, got, err, c.want)
		}
	}
	if _, err := WarmupSteps(1.5, 10); err == nil {
		t.Error("ratio 1.5 accepted")
	}
}
