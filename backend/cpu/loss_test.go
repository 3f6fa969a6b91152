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
		d := be.FromHost(randSlice(rng, n*v, 1), n, v) // junk: the fused kernel overwrites it
		fused := be.Zeros(n)
		be.CrossEntropyLossGrad(fused, d, be.FromHost(logits, n, v), targets, scale)
		assertClose(t, "CrossEntropyLossGrad losses", Data(fused), want, 1e-5)
		twice := make([]float32, n*v) // checkGrad expects two accumulated backward calls
		for i, g := range Data(d) {
			twice[i] = 2 * g
		}
		checkGrad(t, "CrossEntropyLossGrad grad", logits, twice, make([]float32, n*v), func(p []float64) float64 {
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

// TestCrossEntropyLossGradInPlace checks that the fused kernel gives the same result in place over
// the logits as into a separate buffer.
func TestCrossEntropyLossGradInPlace(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(61)
		be := New()
		const v = 29
		targets := []int32{3, -100, 28, 0, 5}
		n := len(targets)
		logits := randSlice(rng, n*v, 4)
		wantLoss, wantGrad := be.Zeros(n), be.Zeros(n, v)
		be.CrossEntropyLossGrad(wantLoss, wantGrad, be.FromHost(logits, n, v), targets, 0.2)
		x, losses := be.FromHost(logits, n, v), be.Zeros(n)
		be.CrossEntropyLossGrad(losses, x, x, targets, 0.2)
		assertClose(t, "losses in place", Data(losses), to64(Data(wantLoss)), 0)
		assertClose(t, "grad in place", Data(x), to64(Data(wantGrad)), 0)
	})
}
