package cpu

import (
	"fmt"
	"os"
)

// Vector kernels over float32 slices: the inner loops of the loss, softmax, SwiGLU, RMSNorm and
// elementwise operations. On amd64 CPUs with AVX-512F they run in assembly (vec_amd64.s: 16 lanes,
// masked tails, a float32 exponential with relative error below 8e-8 over [−87, 88]); elsewhere,
// or with useAVX512 off, the pure-Go versions below run, which compute exponentials in float64
// (fastExp). Both paths agree to float32 rounding (vec_test.go).

// EnvNoSIMD names an environment variable that, when set to any value, disables the assembly
// kernels (to compare with, or debug, the pure-Go ones).
const EnvNoSIMD = "EVA_NOSIMD"

// useAVX512 selects the assembly kernels. Tests switch it off to check the pure-Go kernels.
var useAVX512 = detectAVX512() && os.Getenv(EnvNoSIMD) == ""

// sameLen panics unless every slice has n elements; the assembly kernels rely on it.
func sameLen(op string, n int, s ...[]float32) {
	for _, x := range s {
		if len(x) != n {
			panic(fmt.Sprintf("cpu: %s: slices of %d and %d elements", op, n, len(x)))
		}
	}
}

// vecMax returns the largest element of a non-empty slice (NaN elements may or may not be
// returned; callers' results are NaN either way).
func vecMax(x []float32) float32 {
	if len(x) == 0 {
		panic("cpu: vecMax of an empty slice")
	}
	if useAVX512 {
		return maxAVX512(x)
	}
	return maxGo(x)
}

func maxGo(x []float32) float32 {
	m := x[0]
	for _, v := range x[1:] {
		if v > m || v != v {
			m = v
		}
	}
	return m
}

// vecExpSum writes dst[i] = e^(x[i] − shift) and returns Σᵢ dst[i], accumulated in float64. dst may be
// x itself.
func vecExpSum(dst, x []float32, shift float32) float64 {
	sameLen("vecExpSum", len(x), dst)
	if useAVX512 {
		return expSumAVX512(dst, x, shift)
	}
	return expSumGo(dst, x, shift)
}

func expSumGo(dst, x []float32, shift float32) float64 {
	dst = dst[:len(x)]
	s := 0.0
	for i, v := range x {
		e := fastExp(float64(v - shift))
		dst[i] = float32(e)
		s += e
	}
	return s
}

// vecScale multiplies every element of x by k.
func vecScale(x []float32, k float32) {
	if useAVX512 {
		scaleAVX512(x, k)
		return
	}
	scaleGo(x, k)
}

func scaleGo(x []float32, k float32) {
	for i := range x {
		x[i] *= k
	}
}

// vecAxpy computes y += a·x.
func vecAxpy(y, x []float32, a float32) {
	sameLen("axpy", len(x), y)
	if useAVX512 {
		axpyAVX512(y, x, a)
		return
	}
	axpyGo(y, x, a)
}

func axpyGo(y, x []float32, a float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// vecAdd computes out = a + b; out may alias a or b.
func vecAdd(out, a, b []float32) {
	sameLen("add", len(out), a, b)
	if useAVX512 {
		addAVX512(out, a, b)
		return
	}
	addGo(out, a, b)
}

func addGo(out, a, b []float32) {
	a, b = a[:len(out)], b[:len(out)]
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// vecSwiGLU computes out = silu(gate)·up with silu(g) = g·σ(g) = g/(1 + e^−g).
func vecSwiGLU(out, gate, up []float32) {
	sameLen("swiglu", len(out), gate, up)
	if useAVX512 {
		swigluAVX512(out, gate, up)
		return
	}
	swigluGo(out, gate, up)
}

func swigluGo(out, gate, up []float32) {
	gate, up = gate[:len(out)], up[:len(out)]
	for i := range out {
		x := float64(gate[i])
		out[i] = float32(x * sigmoid(x) * float64(up[i]))
	}
}

// vecSwiGLUBackward accumulates dgate += dout·up·silu'(gate) and dup += dout·silu(gate), where
// silu'(g) = σ(g)·(1 + g·(1 − σ(g))).
func vecSwiGLUBackward(dgate, dup, dout, gate, up []float32) {
	sameLen("swigluBackward", len(dout), dgate, dup, gate, up)
	if useAVX512 {
		swigluBackwardAVX512(dgate, dup, dout, gate, up)
		return
	}
	swigluBackwardGo(dgate, dup, dout, gate, up)
}

func swigluBackwardGo(dgate, dup, dout, gate, up []float32) {
	n := len(dout)
	dgate, dup, gate, up = dgate[:n], dup[:n], gate[:n], up[:n]
	for i, dy := range dout {
		x, d := float64(gate[i]), float64(dy)
		s := sigmoid(x)
		dgate[i] += float32(d * float64(up[i]) * s * (1 + x*(1-s)))
		dup[i] += float32(d * x * s)
	}
}

// vecDot returns Σ x[i]·y[i], products and sum in float64.
func vecDot(x, y []float32) float64 {
	sameLen("vecDot", len(x), y)
	if useAVX512 {
		return dotAVX512(x, y)
	}
	return dotGo(x, y)
}

func dotGo(x, y []float32) float64 {
	y = y[:len(x)]
	s := 0.0
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return s
}

// vecDot3 returns Σ x[i]·y[i]·z[i] accumulated in float64 (x[i]·y[i] may be rounded to float32).
func vecDot3(x, y, z []float32) float64 {
	sameLen("vecDot3", len(x), y, z)
	if useAVX512 {
		return dot3AVX512(x, y, z)
	}
	return dot3Go(x, y, z)
}

func dot3Go(x, y, z []float32) float64 {
	y, z = y[:len(x)], z[:len(x)]
	s := 0.0
	for i, v := range x {
		s += float64(v) * float64(y[i]) * float64(z[i])
	}
	return s
}

// vecMulSub computes dp[i] = p[i]·(dp[i] − c).
func vecMulSub(dp, p []float32, c float32) {
	sameLen("vecMulSub", len(dp), p)
	if useAVX512 {
		mulSubAVX512(dp, p, c)
		return
	}
	mulSubGo(dp, p, c)
}

func mulSubGo(dp, p []float32, c float32) {
	p = p[:len(dp)]
	for i, g := range dp {
		dp[i] = p[i] * (g - c)
	}
}

// vecSumSquares returns Σ x[i]² accumulated in float32 with several partial sums.
func vecSumSquares(x []float32) float32 {
	if useAVX512 {
		return sumSquaresAVX512(x)
	}
	return sumSquares32(x, 0)
}

// vecScaleMul computes out[i] = (x[i]·r)·w[i].
func vecScaleMul(out, x, w []float32, r float32) {
	sameLen("vecScaleMul", len(out), x, w)
	if useAVX512 {
		scaleMulAVX512(out, x, w, r)
		return
	}
	scaleMulGo(out, x, w, r)
}

func scaleMulGo(out, x, w []float32, r float32) {
	x, w = x[:len(out)], w[:len(out)]
	for i := range out {
		out[i] = (x[i] * r) * w[i]
	}
}

// vecRMSNormBackward accumulates dx[i] += r·g[i]·w[i] − c·x[i].
func vecRMSNormBackward(dx, g, x, w []float32, r, c float32) {
	sameLen("vecRMSNormBackward", len(dx), g, x, w)
	if useAVX512 {
		rmsNormBackwardAVX512(dx, g, x, w, r, c)
		return
	}
	rmsNormBackwardGo(dx, g, x, w, r, c)
}

func rmsNormBackwardGo(dx, g, x, w []float32, r, c float32) {
	g, x, w = g[:len(dx)], x[:len(dx)], w[:len(dx)]
	for i := range dx {
		dx[i] += r*g[i]*w[i] - c*x[i]
	}
}

// vecAccMul accumulates acc[i] += g[i]·x[i]·r in float64.
func vecAccMul(acc []float64, g, x []float32, r float64) {
	sameLen("vecAccMul", len(acc), g, x)
	if useAVX512 {
		accMulAVX512(acc, g, x, r)
		return
	}
	accMulGo(acc, g, x, r)
}

func accMulGo(acc []float64, g, x []float32, r float64) {
	g, x = g[:len(acc)], x[:len(acc)]
	for i := range acc {
		acc[i] += float64(g[i]) * float64(x[i]) * r
	}
}
