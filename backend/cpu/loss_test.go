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

// TestCrossEntropyLossGradMatchesSeparateKernels checks the fused kernel against the forward and
// backward kernels, into a separate buffer and in place over the logits.
func TestCrossEntropyLossGradMatchesSeparateKernels(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(61)
		be := New()
		const v = 29
		targets := []int32{3, -100, 28, 0, 5}
		n := len(targets)
		logits := randSlice(rng, n*v, 4)
		wantLoss := be.Zeros(n)
		be.CrossEntropyForward(wantLoss, be.FromHost(logits, n, v), targets)
		wantGrad := be.Zeros(n, v)
		be.CrossEntropyBackward(wantGrad, be.FromHost(logits, n, v), targets, 0.2)
		for _, inPlace := range []bool{false, true} {
			x := be.FromHost(logits, n, v)
			grad := be.FromHost(randSlice(rng, n*v, 1), n, v) // junk: must be overwritten
			if inPlace {
				grad = x
			}
			losses := be.Zeros(n)
			be.CrossEntropyLossGrad(losses, grad, x, targets, 0.2)
			assertClose(t, name("losses inPlace=%v", inPlace), Data(losses), to64(Data(wantLoss)), 1e-6)
			assertClose(t, name("grad inPlace=%v", inPlace), Data(grad), to64(Data(wantGrad)), 1e-6)
		}
	})
}
