package cpu

import (
	"math"
	"testing"
)

func TestCrossEntropy(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(60)
		be := New()
		const v = 13
		targets := []int32{4, -100, 0, 12, 7, -1, 4}
		n := len(targets)
		logits := randSlice(rng, n*v, 3)
		for j := range v {
			logits[2*v+j] += 1000 // a row far from zero: log-sum-exp must not overflow
		}
		losses := be.Zeros(n)
		be.CrossEntropyForward(losses, be.FromHost(logits, n, v), targets)
		want := refCrossEntropy(to64(logits), targets, v)
		assertClose(t, "CrossEntropy losses", Data(losses), want, 1e-5)
		if Data(losses)[1] != 0 || Data(losses)[5] != 0 {
			t.Errorf("ignored rows have losses %v, %v; want 0", Data(losses)[1], Data(losses)[5])
		}

		const scale = 0.37
		d0 := randSlice(rng, n*v, 1)
		d := be.FromHost(d0, n, v)
		for range 2 {
			be.CrossEntropyBackward(d, be.FromHost(logits, n, v), targets, scale)
		}
		checkGrad(t, "CrossEntropy dlogits", logits, Data(d), d0, func(p []float64) float64 {
			s := 0.0
			for _, l := range refCrossEntropy(p, targets, v) {
				s += scale * l
			}
			return s
		}, 1e-5)
		for _, l := range Data(losses) {
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
				t.Fatalf("non-finite loss %v", l)
			}
		}
	})
}
