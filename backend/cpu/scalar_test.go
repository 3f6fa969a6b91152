package cpu

import (
	"math"
	"testing"
)

func TestFastExp(t *testing.T) {
	worst := 0.0
	for x := -700.0; x <= 700; x += 0.0123 {
		want := math.Exp(x)
		worst = max(worst, math.Abs(fastExp(x)-want)/want)
	}
	if worst > 1e-8 {
		t.Errorf("fastExp relative error %.3g, want ≤ 1e-8", worst)
	}
	for _, c := range []struct{ x, want float64 }{{0, 1}, {-1000, 0}, {math.Inf(-1), 0}, {1000, math.Inf(1)}, {math.Inf(1), math.Inf(1)}} {
		if got := fastExp(c.x); got != c.want {
			t.Errorf("fastExp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := fastExp(math.NaN()); !math.IsNaN(got) {
		t.Errorf("fastExp(NaN) = %v, want NaN", got)
	}
}

func TestSigmoidAndTanh(t *testing.T) {
	for x := -40.0; x <= 40; x += 0.0173 {
		if d := math.Abs(tanhViaExp(x) - math.Tanh(x)); d > 2e-8 {
			t.Fatalf("tanhViaExp(%v) off by %.3g", x, d)
		}
		if d := math.Abs(sigmoid(x) - 0.5*(1+math.Tanh(x/2))); d > 1e-8 {
			t.Fatalf("sigmoid(%v) off by %.3g", x, d)
		}
	}
	for _, x := range []float64{-1000, 1000} {
		if v := tanhViaExp(x); math.Abs(v) != 1 {
			t.Errorf("tanhViaExp(%v) = %v, want ±1", x, v)
		}
		if v := sigmoid(x); v != 0 && v != 1 {
			t.Errorf("sigmoid(%v) = %v, want 0 or 1", x, v)
		}
	}
}
