package cpu

import "testing"

func TestSwiGLU(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(30)
		be := New()
		const n, f = 7, 13
		g, u, r := randSlice(rng, n*f, 4), randSlice(rng, n*f, 2), randSlice(rng, n*f, 1)
		out := be.Zeros(n, f)
		be.SwiGLUForward(out, be.FromHost(g, n, f), be.FromHost(u, n, f))
		g64, u64 := to64(g), to64(u)
		assertClose(t, "SwiGLU out", Data(out), refSwiGLU(g64, u64), 1e-6)

		dg0, du0 := randSlice(rng, n*f, 1), randSlice(rng, n*f, 1)
		dg, du := be.FromHost(dg0, n, f), be.FromHost(du0, n, f)
		for range 2 {
			be.SwiGLUBackward(dg, du, be.FromHost(r, n, f), be.FromHost(g, n, f), be.FromHost(u, n, f))
		}
		checkGrad(t, "SwiGLU dgate", g, Data(dg), dg0, func(p []float64) float64 { return dot(r, refSwiGLU(p, u64)) }, 1e-5)
		checkGrad(t, "SwiGLU dup", u, Data(du), du0, func(p []float64) float64 { return dot(r, refSwiGLU(g64, p)) }, 1e-5)
	})
}

func TestGELU(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		for _, tanh := range []bool{true, false} {
			rng := newRand(31)
			be := New()
			const n, d = 7, 13
			x, r := randSlice(rng, n*d, 5), randSlice(rng, n*d, 1)
			out := be.Zeros(n, d)
			be.GELUForward(out, be.FromHost(x, n, d), tanh)
			assertClose(t, name("GELU tanh=%v out", tanh), Data(out), refGELU(to64(x), tanh), 1e-6)

			dx0 := randSlice(rng, n*d, 1)
			dx := be.FromHost(dx0, n, d)
			for range 2 {
				be.GELUBackward(dx, be.FromHost(r, n, d), be.FromHost(x, n, d), tanh)
			}
			checkGrad(t, name("GELU tanh=%v dx", tanh), x, Data(dx), dx0,
				func(p []float64) float64 { return dot(r, refGELU(p, tanh)) }, 1e-5)
		}
	})
}
