package model

import (
	"math"

	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/tensor"
)

// InvFreq returns the rotary inverse frequencies [headDim/2] for a configuration, including the
// "llama3" frequency-dependent rescaling. Values are rounded to float32 the way transformers computes
// them (theta^(2j/d) in float32).
func InvFreq(headDim int, theta float64, scaling *config.RopeScaling) []float32 {
	half := headDim / 2
	f := make([]float32, half)
	for j := range f {
		exp := float32(2*j) / float32(headDim)
		f[j] = float32(1 / float32(math.Pow(theta, float64(exp))))
	}
	if scaling == nil || scaling.Type != "llama3" {
		return f
	}
	factor := scaling.Factor
	lowWave := float64(scaling.OriginalMaxPositions) / scaling.LowFreqFactor
	highWave := float64(scaling.OriginalMaxPositions) / scaling.HighFreqFactor
	for j, v := range f {
		wave := 2 * math.Pi / float64(v)
		switch {
		case wave < highWave:
			// high frequencies are kept
		case wave > lowWave:
			f[j] = float32(float64(v) / factor)
		default:
			smooth := (float64(scaling.OriginalMaxPositions)/wave - scaling.LowFreqFactor) /
				(scaling.HighFreqFactor - scaling.LowFreqFactor)
			f[j] = float32((1-smooth)*float64(v)/factor + smooth*float64(v))
		}
	}
	return f
}

// RopeTables returns cos and sin tables [seqLen, headDim/2] for positions 0..seqLen-1. The angle
// position·invFreq is formed in float32, as transformers does, before cos and sin are taken.
func RopeTables(be tensor.Backend, seqLen int, invFreq []float32) (cos, sin *tensor.Tensor) {
	half := len(invFreq)
	c := make([]float32, seqLen*half)
	s := make([]float32, seqLen*half)
	for p := 0; p < seqLen; p++ {
		for j, f := range invFreq {
			angle := float64(float32(p) * f)
			c[p*half+j] = float32(math.Cos(angle))
			s[p*half+j] = float32(math.Sin(angle))
		}
	}
	return be.FromHost(c, seqLen, half), be.FromHost(s, seqLen, half)
}
