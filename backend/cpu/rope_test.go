package cpu

import (
	"math"
	"testing"
)

// ropeTables returns Llama-style cos and sin tables [S, Dh/2] for base 10000.
func ropeTables(s, dh int) (cos, sin []float32) {
	half := dh / 2
	cos, sin = make([]float32, s*half), make([]float32, s*half)
	for p := range s {
		for j := range half {
			angle := float64(p) * math.Pow(10000, -2*float64(j)/float64(dh))
			cos[p*half+j], sin[p*half+j] = float32(math.Cos(angle)), float32(math.Sin(angle))
		}
	}
	return cos, sin
}

func TestRoPE(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(40)
		be := New()
		const b, s, h, dh = 2, 9, 3, 8
		x, r := randSlice(rng, b*s*h*dh, 1), randSlice(rng, b*s*h*dh, 1)
		cos, sin := ropeTables(s, dh)
		cosT, sinT := be.FromHost(cos, s, dh/2), be.FromHost(sin, s, dh/2)
		cos64, sin64 := to64(cos), to64(sin)

		xt := be.FromHost(x, b, s, h, dh)
		be.RoPE(xt, cosT, sinT, false)
		assertClose(t, "RoPE forward", Data(xt), refRoPE(to64(x), cos64, sin64, b, s, h, dh, false), 1e-6)
		be.RoPE(xt, cosT, sinT, true)
		assertClose(t, "RoPE inverse undoes forward", Data(xt), to64(x), 1e-6)

		// The backward of the rotation is the inverse rotation of the upstream gradient.
		grad := be.FromHost(r, b, s, h, dh)
		be.RoPE(grad, cosT, sinT, true)
		zero := make([]float32, len(x))
		doubled := make([]float32, len(x))
		for i, g := range Data(grad) {
			doubled[i] = 2 * g // checkGrad expects two accumulated calls; RoPE works in place
		}
		checkGrad(t, "RoPE gradient", x, doubled, zero, func(p []float64) float64 {
			return dot(r, refRoPE(p, cos64, sin64, b, s, h, dh, false))
		}, 1e-5)
		mustPanic(t, "RoPE with tables of the wrong length", func() {
			be.RoPE(xt, be.Zeros(s+1, dh/2), be.Zeros(s+1, dh/2), false)
		})
	})
}
