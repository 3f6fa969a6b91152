package peft

import (
	"fmt"
	"math"
)

// AgainstOriginalBase rewrites adapters trained on an offset base weight W0 − s·B0·A0 (PiSSA, OLoRA,
// MiLoRA, CorDA, LoRA-GA, AILoRA) as plain LoRA adapters for the original W0, as PEFT's
// path_initial_model_for_weight_conversion does: the trained update s·B·A minus the initial s·B0·A0
// is exactly s'·[B, −B0]·[A; A0] with rank 2r and the same scale s' = s (alpha doubled, or multiplied
// by √2 with rsLoRA). initial holds the layers at step 0, in the same order. DoRA adapters cannot be
// rewritten this way (their norm depends on the base weight) and are an error.
func AgainstOriginalBase(c Config, trained, initial []Layer) (Config, []Layer, error) {
	if len(trained) != len(initial) {
		return Config{}, nil, fmt.Errorf("convert adapter: %d trained layers but %d initial ones", len(trained), len(initial))
	}
	if c.DoRA {
		return Config{}, nil, fmt.Errorf("convert adapter: a DoRA adapter trained on an offset base weight cannot be expressed against the original weight")
	}
	grow := 2.0
	if c.RSLoRA {
		grow = math.Sqrt2
	}
	out := make([]Layer, len(trained))
	for i, t := range trained {
		in := initial[i]
		if in.Module != t.Module || in.Rank != t.Rank || in.In != t.In || in.Out != t.Out {
			return Config{}, nil, fmt.Errorf("convert adapter: layer %d is %s r%d %d→%d trained but %s r%d %d→%d initially",
				i, t.Module, t.Rank, t.In, t.Out, in.Module, in.Rank, in.In, in.Out)
		}
		r := t.Rank
		a := append(append(make([]float32, 0, 2*r*t.In), t.A...), in.A...)
		b := make([]float32, t.Out*2*r)
		for o := range t.Out {
			copy(b[o*2*r:o*2*r+r], t.B[o*r:(o+1)*r])
			for k := range r {
				b[o*2*r+r+k] = -in.B[o*r+k]
			}
		}
		out[i] = Layer{Module: t.Module, Rank: 2 * r, In: t.In, Out: t.Out, A: a, B: b, Alpha: t.Alpha * grow}
	}
	c.R *= 2
	c.Alpha *= grow
	c.Init = ""
	return c, out, nil
}
