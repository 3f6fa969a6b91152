package cpu

import (
	"math"
	"testing"
)

// vecLengths covers empty and one-element slices, every tail length around one and two 16-lane
// vectors, and a long slice.
var vecLengths = []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 1000, 4099}

// withPaths runs f with the assembly kernels (when the CPU has them) and with the pure-Go ones.
func withPaths(t *testing.T, f func(t *testing.T, path string)) {
	t.Helper()
	saved := useAVX512
	defer func() { useAVX512 = saved }()
	paths := []bool{false}
	if detectAVX512() {
		paths = append(paths, true)
	} else {
		t.Log("no AVX-512 on this CPU: only the pure-Go kernels are tested")
	}
	for _, asm := range paths {
		useAVX512 = asm
		path := "go"
		if asm {
			path = "avx512"
		}
		f(t, path)
	}
}

// guarded returns a slice of n elements inside a larger buffer whose neighbours hold a sentinel,
// and a check that fails when a neighbour changed (a kernel wrote outside its slice).
func guarded(t *testing.T, vals []float32) ([]float32, func()) {
	const pad, sentinel = 32, float32(-12345)
	buf := make([]float32, len(vals)+2*pad)
	for i := range buf {
		buf[i] = sentinel
	}
	s := buf[pad : pad+len(vals) : pad+len(vals)]
	copy(s, vals)
	return s, func() {
		t.Helper()
		for i, v := range buf {
			if (i < pad || i >= pad+len(vals)) && v != sentinel {
				t.Fatalf("element %d outside the slice of %d was overwritten", i-pad, len(vals))
			}
		}
	}
}

func TestVecMax(t *testing.T) {
	withPaths(t, func(t *testing.T, path string) {
		rng := newRand(40)
		for _, n := range vecLengths[1:] {
			x := randSlice(rng, n, 100)
			for _, at := range []int{0, n / 2, n - 1} { // the maximum at the start, middle, tail
				y := append([]float32(nil), x...)
				y[at] = 1000
				if got := vecMax(y); got != 1000 {
					t.Fatalf("%s: n=%d, max at %d: got %v", path, n, at, got)
				}
			}
		}
		if got := vecMax([]float32{-3, float32(math.Inf(-1)), -7}); got != -3 {
			t.Errorf("%s: max of negatives = %v", path, got)
		}
	})
}

// TestVecExpSum checks e^(x − shift) element by element against math.Exp of the float32
// difference (relative error below 4e-7, float32 rounding included), the float64 sum, in-place use, and the limits: very negative
// arguments give 0, overflow gives +Inf, NaN stays NaN.
func TestVecExpSum(t *testing.T) {
	withPaths(t, func(t *testing.T, path string) {
		rng := newRand(41)
		for _, n := range vecLengths {
			x := randSlice(rng, n, 90)
			dst, check := guarded(t, make([]float32, n))
			const shift = 3.5
			s := vecExpSum(dst, x, shift)
			check()
			want := 0.0
			for i, v := range x {
				e := math.Exp(float64(v - shift)) // the kernels subtract in float32
				want += float64(dst[i])
				if d := math.Abs(float64(dst[i])-e) / e; e > 1e-37 && !(d < 4e-7) {
					t.Fatalf("%s: e^(%v − %v) = %v, want %v (relative error %.2g)", path, v, shift, dst[i], e, d)
				}
			}
			if math.Abs(s-want) > 1e-6*want {
				t.Fatalf("%s: n=%d: sum %v, want %v", path, n, s, want)
			}
			inPlace := append([]float32(nil), x...)
			if s2 := vecExpSum(inPlace, inPlace, shift); s2 != s {
				t.Fatalf("%s: in-place sum %v differs from %v", path, s2, s)
			}
			for i := range inPlace {
				if inPlace[i] != dst[i] {
					t.Fatalf("%s: in-place element %d = %v, want %v", path, i, inPlace[i], dst[i])
				}
			}
		}
		inf := float32(math.Inf(1))
		special := []float32{0, -200, -inf, 89, 1000, inf, float32(math.NaN()), -103.9, 88.5}
		out := make([]float32, len(special))
		vecExpSum(out, special, 0)
		wantSpecial := []float64{1, 0, 0, math.Inf(1), math.Inf(1), math.Inf(1), math.NaN(), math.Exp(-103.9), math.Exp(88.5)}
		for i, w := range wantSpecial {
			got := float64(out[i])
			switch {
			case math.IsNaN(w):
				if !math.IsNaN(got) {
					t.Errorf("%s: e^NaN = %v", path, got)
				}
			case w == 0 || math.IsInf(w, 1):
				if got != w {
					t.Errorf("%s: e^%v = %v, want %v", path, special[i], got, w)
				}
			case math.Abs(got-w) > 1e-6*w && math.Abs(got-w) > 1e-44:
				t.Errorf("%s: e^%v = %v, want %v", path, special[i], got, w)
			}
		}
	})
}

func TestVecScaleAxpyAdd(t *testing.T) {
	withPaths(t, func(t *testing.T, path string) {
		rng := newRand(42)
		for _, n := range vecLengths {
			x, y := randSlice(rng, n, 2), randSlice(rng, n, 2)
			s, check := guarded(t, x)
			vecScale(s, -1.5)
			check()
			for i := range x {
				if s[i] != x[i]*-1.5 {
					t.Fatalf("%s: scale element %d = %v, want %v", path, i, s[i], x[i]*-1.5)
				}
			}
			yy, check := guarded(t, y)
			vecAxpy(yy, x, 0.75)
			check()
			for i := range x {
				if d := math.Abs(float64(yy[i]) - (float64(y[i]) + 0.75*float64(x[i]))); d > 1e-6 {
					t.Fatalf("%s: axpy element %d off by %.2g", path, i, d)
				}
			}
			out, check := guarded(t, make([]float32, n))
			vecAdd(out, x, y)
			check()
			vecAdd(y, y, x) // aliased output
			for i := range x {
				if out[i] != x[i]+y[i]-x[i] && out[i] != y[i] {
					t.Fatalf("%s: add element %d = %v, aliased %v", path, i, out[i], y[i])
				}
			}
		}
	})
}

// TestVecSwiGLU compares both SwiGLU kernels with float64 formulas, including saturated gates
// (±30, ±200, where e^−g underflows or overflows) that must give finite values.
func TestVecSwiGLU(t *testing.T) {
	withPaths(t, func(t *testing.T, path string) {
		rng := newRand(43)
		for _, n := range vecLengths {
			g, u, d := randSlice(rng, n, 8), randSlice(rng, n, 2), randSlice(rng, n, 2)
			for i, v := range []float32{30, -30, 200, -200} {
				if i < n {
					g[i] = v
				}
			}
			dg0, du0 := randSlice(rng, n, 1), randSlice(rng, n, 1)
			out, check := guarded(t, make([]float32, n))
			vecSwiGLU(out, g, u)
			check()
			dg, checkG := guarded(t, dg0)
			du, checkU := guarded(t, du0)
			vecSwiGLUBackward(dg, du, d, g, u)
			checkG()
			checkU()
			for i := range g {
				x := float64(g[i])
				s := 1 / (1 + math.Exp(-x))
				want := x * s * float64(u[i])
				wantDg := float64(dg0[i]) + float64(d[i])*float64(u[i])*s*(1+x*(1-s))
				wantDu := float64(du0[i]) + float64(d[i])*x*s
				for _, c := range []struct {
					name      string
					got, want float64
				}{{"out", float64(out[i]), want}, {"dgate", float64(dg[i]), wantDg}, {"dup", float64(du[i]), wantDu}} {
					if d := math.Abs(c.got - c.want); !(d <= 1e-6*max(1, math.Abs(c.want))) {
						t.Fatalf("%s: %s at g=%v: %v, want %v", path, c.name, x, c.got, c.want)
					}
				}
			}
		}
	})
}

// TestVecReductions checks the dot products and the sum of squares against float64 sums.
func TestVecReductions(t *testing.T) {
	withPaths(t, func(t *testing.T, path string) {
		rng := newRand(44)
		for _, n := range vecLengths {
			x, y, z := randSlice(rng, n, 3), randSlice(rng, n, 3), randSlice(rng, n, 3)
			var dot, dot3, sq, scale float64
			for i := range x {
				dot += float64(x[i]) * float64(y[i])
				dot3 += float64(x[i]) * float64(y[i]) * float64(z[i])
				sq += float64(x[i]) * float64(x[i])
				scale += math.Abs(float64(x[i]) * float64(y[i]) * float64(z[i]))
			}
			if got := vecDot(x, y); math.Abs(got-dot) > 1e-12*max(1, math.Abs(dot)) {
				t.Fatalf("%s: n=%d: dot %v, want %v", path, n, got, dot)
			}
			// x·y may be rounded to float32: error up to 2⁻²⁴ of Σ|x·y·z|
			if got := vecDot3(x, y, z); math.Abs(got-dot3) > 1e-7*max(1, scale) {
				t.Fatalf("%s: n=%d: dot3 %v, want %v", path, n, got, dot3)
			}
			if got := float64(vecSumSquares(x)); math.Abs(got-sq) > 1e-6*max(1, sq) {
				t.Fatalf("%s: n=%d: sum of squares %v, want %v", path, n, got, sq)
			}
		}
	})
}

// TestVecRowUpdates checks the softmax-backward, RMSNorm and weight-gradient row updates element by
// element against float64 formulas, and that none writes outside its slice.
func TestVecRowUpdates(t *testing.T) {
	withPaths(t, func(t *testing.T, path string) {
		rng := newRand(45)
		for _, n := range vecLengths {
			g, x, w, d0 := randSlice(rng, n, 2), randSlice(rng, n, 2), randSlice(rng, n, 2), randSlice(rng, n, 1)
			const r, c = 1.7, -0.3
			close := func(what string, i int, got, want float64) {
				t.Helper()
				if d := math.Abs(got - want); !(d <= 1e-6*max(1, math.Abs(want))) {
					t.Fatalf("%s: n=%d: %s element %d = %v, want %v", path, n, what, i, got, want)
				}
			}
			dp, check := guarded(t, g)
			vecMulSub(dp, x, c)
			check()
			out, checkOut := guarded(t, make([]float32, n))
			vecScaleMul(out, x, w, r)
			checkOut()
			dx, checkDx := guarded(t, d0)
			vecRMSNormBackward(dx, g, x, w, r, c)
			checkDx()
			acc := make([]float64, n)
			for i := range acc {
				acc[i] = float64(d0[i])
			}
			vecAccMul(acc, g, x, r)
			for i := range g {
				gi, xi, wi := float64(g[i]), float64(x[i]), float64(w[i])
				close("mulSub", i, float64(dp[i]), xi*(gi-c))
				close("scaleMul", i, float64(out[i]), xi*float64(float32(r))*wi)
				close("rmsNormBackward", i, float64(dx[i]), float64(d0[i])+float64(float32(r))*gi*wi-float64(float32(c))*xi)
				close("accMul", i, acc[i], float64(d0[i])+gi*xi*r)
			}
		}
	})
}

// TestVecLengthMismatchPanics checks that the kernels refuse slices of different lengths instead
// of reading past the shorter one.
func TestVecLengthMismatchPanics(t *testing.T) {
	a, b := make([]float32, 16), make([]float32, 17)
	mustPanic(t, "expSum", func() { vecExpSum(a, b, 0) })
	mustPanic(t, "axpy", func() { vecAxpy(a, b, 1) })
	mustPanic(t, "add", func() { vecAdd(a, a, b) })
	mustPanic(t, "swiglu", func() { vecSwiGLU(a, b, a) })
	mustPanic(t, "swigluBackward", func() { vecSwiGLUBackward(a, a, a, b, a) })
	mustPanic(t, "vecMax", func() { vecMax(nil) })
	mustPanic(t, "vecDot3", func() { vecDot3(a, a, b) })
	mustPanic(t, "vecMulSub", func() { vecMulSub(a, b, 0) })
	mustPanic(t, "vecScaleMul", func() { vecScaleMul(a, a, b, 1) })
	mustPanic(t, "vecRMSNormBackward", func() { vecRMSNormBackward(a, a, a, b, 1, 1) })
	mustPanic(t, "vecAccMul", func() { vecAccMul(make([]float64, 16), a, b, 1) })
}
