package cpu

import (
	"testing"

	"github.com/eva-lora/eva/tensor"
)

func TestRMSNorm(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(20)
		be := New()
		const n, d, eps = 7, 13, 1e-5
		x, w, r := randSlice(rng, n*d, 2), randSlice(rng, d, 1.5), randSlice(rng, n*d, 1)
		out, rstd := be.Zeros(n, d), be.Zeros(n)
		be.RMSNormForward(out, rstd, be.FromHost(x, n, d), be.FromHost(w, d), eps)
		wantOut, wantRstd := refRMSNorm(to64(x), to64(w), n, d, eps)
		assertClose(t, "RMSNorm out", Data(out), wantOut, 1e-6)
		assertClose(t, "RMSNorm rstd", Data(rstd), wantRstd, 1e-6)

		dx0, dw0 := randSlice(rng, n*d, 1), randSlice(rng, d, 1)
		dx, dw := be.FromHost(dx0, n, d), be.FromHost(dw0, d)
		for range 2 {
			be.RMSNormBackward(dx, dw, be.FromHost(r, n, d), be.FromHost(x, n, d), be.FromHost(w, d), rstd)
		}
		x64, w64 := to64(x), to64(w)
		checkGrad(t, "RMSNorm dx", x, Data(dx), dx0, func(xp []float64) float64 {
			o, _ := refRMSNorm(xp, w64, n, d, eps)
			return dot(r, o)
		}, 1e-5)
		checkGrad(t, "RMSNorm dw", w, Data(dw), dw0, func(wp []float64) float64 {
			o, _ := refRMSNorm(x64, wp, n, d, eps)
			return dot(r, o)
		}, 1e-5)

		dxNil := be.FromHost(dx0, n, d)
		be.RMSNormBackward(dxNil, nil, be.FromHost(r, n, d), be.FromHost(x, n, d), be.FromHost(w, d), rstd)
		be.RMSNormBackward(dxNil, nil, be.FromHost(r, n, d), be.FromHost(x, n, d), be.FromHost(w, d), rstd)
		assertClose(t, "RMSNorm dx with nil dw", Data(dxNil), to64(Data(dx)), 0)
		mustPanic(t, "RMSNormForward with a wrong weight size", func() {
			be.RMSNormForward(out, rstd, be.FromHost(x, n, d), be.Zeros(d+1), eps)
		})
	})
}

func TestLayerNorm(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(21)
		be := New()
		const n, d, eps = 7, 13, 1e-5
		x, w, b, r := randSlice(rng, n*d, 2), randSlice(rng, d, 1.5), randSlice(rng, d, 1), randSlice(rng, n*d, 1)
		for i := range x {
			x[i] += 3 // a non-zero mean exercises the centring
		}
		x64, w64, b64 := to64(x), to64(w), to64(b)
		for _, withBias := range []bool{true, false} {
			var bt *tensor.Tensor
			var bref []float64
			if withBias {
				bt, bref = be.FromHost(b, d), b64
			}
			out, mean, rstd := be.Zeros(n, d), be.Zeros(n), be.Zeros(n)
			be.LayerNormForward(out, mean, rstd, be.FromHost(x, n, d), be.FromHost(w, d), bt, eps)
			wantOut, wantMean, wantRstd := refLayerNorm(x64, w64, bref, n, d, eps)
			assertClose(t, name("LayerNorm out bias=%v", withBias), Data(out), wantOut, 2e-6)
			assertClose(t, "LayerNorm mean", Data(mean), wantMean, 1e-6)
			assertClose(t, "LayerNorm rstd", Data(rstd), wantRstd, 1e-6)
		}
		out, mean, rstd := be.Zeros(n, d), be.Zeros(n), be.Zeros(n)
		be.LayerNormForward(out, mean, rstd, be.FromHost(x, n, d), be.FromHost(w, d), be.FromHost(b, d), eps)
		dx0, dw0, db0 := randSlice(rng, n*d, 1), randSlice(rng, d, 1), randSlice(rng, d, 1)
		dx, dw, db := be.FromHost(dx0, n, d), be.FromHost(dw0, d), be.FromHost(db0, d)
		for range 2 {
			be.LayerNormBackward(dx, dw, db, be.FromHost(r, n, d), be.FromHost(x, n, d), be.FromHost(w, d), mean, rstd)
		}
		loss := func(xp, wp, bp []float64) float64 {
			o, _, _ := refLayerNorm(xp, wp, bp, n, d, eps)
			return dot(r, o)
		}
		checkGrad(t, "LayerNorm dx", x, Data(dx), dx0, func(p []float64) float64 { return loss(p, w64, b64) }, 1e-5)
		checkGrad(t, "LayerNorm dw", w, Data(dw), dw0, func(p []float64) float64 { return loss(x64, p, b64) }, 1e-5)
		checkGrad(t, "LayerNorm db", b, Data(db), db0, func(p []float64) float64 { return loss(x64, w64, p) }, 1e-5)

		onlyDx := be.FromHost(dx0, n, d)
		for range 2 {
			be.LayerNormBackward(onlyDx, nil, nil, be.FromHost(r, n, d), be.FromHost(x, n, d), be.FromHost(w, d), mean, rstd)
		}
		assertClose(t, "LayerNorm dx with nil dw, db", Data(onlyDx), to64(Data(dx)), 0)
	})
}
