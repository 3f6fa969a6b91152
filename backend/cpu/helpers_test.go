package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// newRand returns a deterministic generator so failures reproduce.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randSlice returns n values uniform in [-scale, scale).
func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32((2*rng.Float64() - 1) * scale)
	}
	return s
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}

// assertClose fails unless max|got − want| ≤ tol·max(1, max|want|), i.e. a relative error for
// large values and an absolute one for small.
func assertClose(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	limit := tol * max(1, maxAbs(want))
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
			if math.IsNaN(d) {
				break
			}
		}
	}
	if !(worst <= limit) {
		t.Errorf("%s: element %d = %v, want %v (error %.3g > %.3g)", name, at, got[at], want[at], worst, limit)
	}
}

// checkGrad compares an analytic gradient with central finite differences of loss, a float64
// function of x (the kernel's reference forward contracted with random weights). grad and init
// are the gradient buffer after two Backward calls and before them, so the check also proves that
// Backward accumulates: (grad − init)/2 must equal one gradient.
func checkGrad(t *testing.T, name string, x, grad, init []float32, loss func(x []float64) float64, tol float64) {
	t.Helper()
	const h = 1e-5
	x64 := to64(x)
	fd := make([]float64, len(x))
	for i := range x64 {
		v := x64[i]
		x64[i] = v + h
		lp := loss(x64)
		x64[i] = v - h
		lm := loss(x64)
		x64[i] = v
		fd[i] = (lp - lm) / (2 * h)
	}
	once := make([]float32, len(grad))
	for i := range grad {
		once[i] = (grad[i] - init[i]) / 2
	}
	scale := max(maxAbs(fd), 1e-3)
	assertClose(t, name+" gradient vs finite differences", once, fd, tol*scale/max(1, scale))
}

// dot returns Σ r·y.
func dot(r []float32, y []float64) float64 {
	s := 0.0
	for i, v := range y {
		s += float64(r[i]) * v
	}
	return s
}

// bothModes runs test twice: with the default parallel threshold (small inputs stay on one
// goroutine) and with every loop forced onto several goroutines.
func bothModes(t *testing.T, test func(t *testing.T)) {
	t.Run("serial-threshold", test)
	t.Run("forced-parallel", func(t *testing.T) {
		defer func(w int) { minParallelWork = w }(minParallelWork)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
		minParallelWork = 1
		test(t)
	})
}

// mustPanic fails unless f panics.
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

// name formats sub-test names.
func name(format string, args ...any) string { return fmt.Sprintf(format, args...) }
