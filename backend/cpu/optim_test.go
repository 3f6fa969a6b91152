package cpu

import (
	"math"
	"runtime"
	"testing"
)

// refAdamW is torch.optim.AdamW's update in float64, written from the algorithm's definition
// (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"; PyTorch's AdamW documentation).
func refAdamW(p, g, m, v []float64, lr, beta1, beta2, eps, wd float64, t int) {
	bc1 := 1 - math.Pow(beta1, float64(t))
	bc2 := 1 - math.Pow(beta2, float64(t))
	for i := range p {
		p[i] *= 1 - lr*wd
		m[i] = beta1*m[i] + (1-beta1)*g[i]
		v[i] = beta2*v[i] + (1-beta2)*g[i]*g[i]
		mhat, vhat := m[i]/bc1, v[i]/bc2
		p[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
	}
}

func TestAdamWMatchesReference(t *testing.T) {
	cases := []struct {
		name                      string
		lr, beta1, beta2, eps, wd float64
	}{
		{"defaults-with-decay", 0.05, 0.9, 0.999, 1e-8, 0.1},
		{"no-decay", 0.02, 0.9, 0.999, 1e-8, 0},
		{"lerp-large-weight", 0.05, 0.3, 0.95, 1e-6, 0.01}, // 1−β1 ≥ 0.5: PyTorch's other lerp branch
		{"big-eps", 0.1, 0.8, 0.99, 0.5, 0.2},
	}
	bothModes(t, func(t *testing.T) {
		for ci, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rng := newRand(uint64(40 + ci))
				be := New()
				const n = 7 * 13
				p0 := randSlice(rng, n, 1)
				p, m, v := be.FromHost(p0, n), be.Zeros(7, 13), be.Zeros(n) // shapes may differ
				rp, rm, rv := to64(p0), make([]float64, n), make([]float64, n)
				for step := 1; step <= 5; step++ {
					gs := randSlice(rng, n, 2)
					gs[3], gs[n-1] = 0, 0 // zero gradients: the update of a zero moment must stay 0
					if step == 1 {
						gs[5] = 0 // element 5 keeps m = v = 0 until step 2
					}
					be.AdamW(p, be.FromHost(gs, n), m, v, tc.lr, tc.beta1, tc.beta2, tc.eps, tc.wd, step)
					refAdamW(rp, to64(gs), rm, rv, tc.lr, tc.beta1, tc.beta2, tc.eps, tc.wd, step)
					assertClose(t, name("p after step %d", step), Data(p), rp, 2e-6)
					assertClose(t, name("m after step %d", step), Data(m), rm, 2e-6)
					assertClose(t, name("v after step %d", step), Data(v), rv, 2e-6)
				}
			})
		}
	})
}

// The first step moves each parameter by lr·g/(|g|+eps) after the decay: m̂ = g and v̂ = g².
func TestAdamWFirstStepClosedForm(t *testing.T) {
	be := New()
	g := []float32{2, -0.5, 1e-3, 0}
	p := be.FromHost([]float32{1, 1, -1, 3}, 4)
	const lr, wd, eps = 0.1, 0.5, 1e-8
	be.AdamW(p, be.FromHost(g, 4), be.Zeros(4), be.Zeros(4), lr, 0.9, 0.999, eps, wd, 1)
	want := []float64{1*(1-lr*wd) - lr, 1*(1-lr*wd) + lr, -1*(1-lr*wd) - lr*1e-3/(1e-3+eps), 3 * (1 - lr*wd)}
	assertClose(t, "p", Data(p), want, 1e-6)
}

// Splitting the work across goroutines must not change a single bit of the update or of SumSquares.
func TestOptimKernelsDeterministic(t *testing.T) {
	rng := newRand(47)
	n := 3*sumSquaresBlock + 11
	p0, g := randSlice(rng, n, 1), randSlice(rng, n, 1)
	run := func() ([]float32, float64) {
		be := New()
		p, m, v := be.FromHost(p0, n), be.Zeros(n), be.Zeros(n)
		gt := be.FromHost(g, n)
		for step := 1; step <= 3; step++ {
			be.AdamW(p, gt, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, step)
		}
		return Data(p), be.SumSquares(gt)
	}
	serialP, serialS := run()
	defer func(w int) { minParallelWork = w }(minParallelWork)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	minParallelWork = 1
	parP, parS := run()
	for i := range serialP {
		if math.Float32bits(serialP[i]) != math.Float32bits(parP[i]) {
			t.Fatalf("AdamW element %d: serial %v, parallel %v", i, serialP[i], parP[i])
		}
	}
	if serialS != parS {
		t.Errorf("SumSquares: serial %v, parallel %v", serialS, parS)
	}
}

func TestSumSquares(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(48)
		be := New()
		for _, n := range []int{0, 1, 5, sumSquaresBlock, 2*sumSquaresBlock + 7} {
			x := randSlice(rng, n, 3)
			want := 0.0
			for _, v := range to64(x) {
				want += v * v
			}
			got := be.SumSquares(be.FromHost(x, n))
			if math.Abs(got-want) > 1e-12*max(1, want) {
				t.Errorf("n=%d: SumSquares = %v, want %v", n, got, want)
			}
		}
		// A value whose square overflows float32 must not overflow the float64 sum.
		if got := be.SumSquares(be.FromHost([]float32{3e20, 4e20}, 2)); math.Abs(got-25e40)/25e40 > 1e-6 {
			t.Errorf("SumSquares of large values = %v, want 2.5e41", got)
		}
		if got := be.SumSquares(be.FromHost([]float32{1, float32(math.NaN())}, 2)); !math.IsNaN(got) {
			t.Errorf("SumSquares with a NaN = %v, want NaN", got)
		}
	})
}

func TestAdamWPanics(t *testing.T) {
	be := New()
	x, y := be.Zeros(3), be.Zeros(4)
	mustPanic(t, "AdamW with step 0", func() { be.AdamW(x, x, x, x, 1e-3, 0.9, 0.999, 1e-8, 0, 0) })
	mustPanic(t, "AdamW with a short gradient", func() { be.AdamW(y, x, y, y, 1e-3, 0.9, 0.999, 1e-8, 0, 1) })
}
