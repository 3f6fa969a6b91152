package peft

import (
	"fmt"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/nn"
)

// FromEVA turns an EVA state into the adapter PEFT's initialize_lora_eva_weights produces: for every
// layer with a non-zero rank, A from the state (in float32), B = 0 and the layer's alpha; rank-0
// layers get no adapter. layers supplies each module's output size and layout.
func FromEVA(st *eva.State, layers []*nn.Linear, baseModel string) (Config, []Layer, error) {
	byName := map[string]*nn.Linear{}
	for _, l := range layers {
		byName[l.Name] = l
	}
	c := Config{
		BaseModel: baseModel, R: st.Config.R, Alpha: st.Config.Alpha, Init: "eva",
		Eva: &EvaConfig{
			Rho: st.Config.Rho, Tau: st.Config.Tau, UseLabelMask: st.LabelMask,
			LabelMaskValue: data.IgnoreIndex, Whiten: st.Config.Whiten, AdjustScalingFactors: st.Config.AdjustScaling,
		},
	}
	var out []Layer
	for _, ls := range st.Layers {
		lin, ok := byName[ls.Name]
		if !ok {
			return Config{}, nil, fmt.Errorf("EVA state names layer %s, which the model does not have", ls.Name)
		}
		if ls.In != lin.In {
			return Config{}, nil, fmt.Errorf("EVA state has %d inputs for %s, the model %d", ls.In, ls.Name, lin.In)
		}
		c.FanInFanOut = c.FanInFanOut || lin.FanInFanOut
		if ls.Rank == 0 {
			continue
		}
		a := make([]float32, len(ls.A))
		for i, v := range ls.A {
			a[i] = float32(v)
		}
		out = append(out, Layer{Module: ls.Name, Rank: ls.Rank, In: ls.In, Out: lin.Out, A: a,
			B: make([]float32, lin.Out*ls.Rank), Alpha: ls.Alpha})
	}
	if len(out) == 0 {
		return Config{}, nil, fmt.Errorf("EVA assigned rank 0 to every layer: no adapter to write")
	}
	return c, out, nil
}
