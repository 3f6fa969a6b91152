package peft

import (
	"fmt"

	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Attach puts the adapter's layers onto a model's Linear layers (by module path) as LoRA adapters
// on backend be (with the config's dropout and DoRA magnitudes). Every adapter layer must name a
// Linear layer of the model, with matching sizes; nothing is attached when one does not.
func Attach(be tensor.Backend, linears []*nn.Linear, c Config, layers []Layer) ([]*lora.Adapter, error) {
	byName := map[string]*nn.Linear{}
	for _, l := range linears {
		byName[l.Name] = l
	}
	out := make([]*lora.Adapter, 0, len(layers))
	for _, l := range layers {
		lin, ok := byName[l.Module]
		if !ok {
			return nil, fmt.Errorf("adapter layer %s is not a Linear layer of the model", l.Module)
		}
		if lin.In != l.In || lin.Out != l.Out {
			return nil, fmt.Errorf("adapter layer %s is %d→%d but the model's layer is %d→%d", l.Module, l.In, l.Out, lin.In, lin.Out)
		}
		ad, err := lora.New(lin, be.FromHost(l.A, l.Rank, l.In), be.FromHost(l.B, l.Out, l.Rank), l.Alpha, c.RSLoRA)
		if err != nil {
			return nil, err
		}
		ad.Dropout = float32(c.Dropout)
		if c.DoRA != (l.Magnitude != nil) {
			return nil, fmt.Errorf("adapter layer %s: use_dora is %v but the layer has %d magnitudes", l.Module, c.DoRA, len(l.Magnitude))
		}
		if l.Magnitude != nil {
			if err := ad.SetMagnitude(be.FromHost(l.Magnitude, l.Out)); err != nil {
				return nil, err
			}
		}
		out = append(out, ad)
	}
	for i, l := range layers {
		byName[l.Module].Adapter = out[i]
	}
	return out, nil
}

// Layers reads trained adapters back into the layers Save writes (A, B, DoRA magnitude and alpha).
func Layers(be tensor.Backend, adapters []*lora.Adapter) []Layer {
	out := make([]Layer, len(adapters))
	for i, ad := range adapters {
		l := ad.Layer()
		out[i] = Layer{Module: l.Name, Rank: ad.Rank, In: l.In, Out: l.Out, A: be.ToHost(ad.A), B: be.ToHost(ad.B), Alpha: ad.Alpha}
		if ad.Magnitude != nil {
			out[i].Magnitude = be.ToHost(ad.Magnitude)
		}
	}
	return out
}
