// Package gpt2 implements GPT-2 (GPT2LMHeadModel): learned position embeddings, pre-LayerNorm blocks,
// a fused c_attn projection, a gelu_new MLP and an output head tied to the token embeddings, computed
// as transformers computes them, with an explicit backward pass. Conv1D weights, stored [In, Out] in
// checkpoints, are held transposed as [Out, In] like every other Linear.
package gpt2

import (
	"fmt"
	"math"

	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Layer is one transformer block.
type Layer struct {
	// LN1 and LN2 are ln_1 and ln_2.
	LN1, LN2 *nn.LayerNorm
	// Attn is the fused q/k/v projection c_attn, AttnProj the attention's c_proj,
	// FC and Proj the MLP's c_fc and c_proj.
	Attn, AttnProj, FC, Proj *nn.Linear
}

// Model is a GPT-2 causal LM.
type Model struct {
	cfg    *config.Config
	be     tensor.Backend
	WTE    *nn.Embedding
	WPE    *nn.Embedding
	Layers []*Layer
	LNF    *nn.LayerNorm
	// Head is lm_head, whose weight is WTE.Table.
	Head *nn.Linear
	acts *activations
	gelu bool // tanh approximation
}

// Module names carry the "transformer." prefix of GPT2LMHeadModel, as PEFT sees them.
const prefix = "transformer."

// Load builds the model from a validated configuration and a weight source. Checkpoints with or
// without the "transformer." prefix in tensor names are accepted.
func Load(cfg *config.Config, ld *model.Loader) (*Model, error) {
	if cfg.ModelType != "gpt2" {
		return nil, fmt.Errorf("%s: model_type %q is not gpt2", ld.Origin, cfg.ModelType)
	}
	m := &Model{cfg: cfg, be: ld.Backend}
	switch cfg.Activation {
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		m.gelu = true
	case "gelu":
	default:
		return nil, fmt.Errorf("%s: activation_function %q is not supported for gpt2", ld.Origin, cfg.Activation)
	}
	stored := prefix
	if !ld.Has(prefix+"wte.weight") && ld.Has("wte.weight") {
		stored = ""
	}
	D, F, V := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize
	eps := float32(cfg.NormEps)
	wte, err := ld.Load(stored+"wte.weight", V, D)
	if err != nil {
		return nil, err
	}
	wpe, err := ld.Load(stored+"wpe.weight", cfg.MaxPositions, D)
	if err != nil {
		return nil, err
	}
	m.WTE = &nn.Embedding{Name: prefix + "wte", Table: wte}
	m.WPE = &nn.Embedding{Name: prefix + "wpe", Table: wpe}
	conv := func(name string, out, in int) (*nn.Linear, error) {
		w, err := ld.LoadTransposed(stored+name+".weight", out, in)
		if err != nil {
			return nil, err
		}
		b, err := ld.Load(stored+name+".bias", out)
		if err != nil {
			return nil, err
		}
		l, err := nn.NewLinear(prefix+name, w, b)
		if err != nil {
			return nil, err
		}
		l.FanInFanOut = true
		return l, nil
	}
	norm := func(name string) (*nn.LayerNorm, error) {
		w, err := ld.Load(stored+name+".weight", D)
		if err != nil {
			return nil, err
		}
		b, err := ld.Load(stored+name+".bias", D)
		if err != nil {
			return nil, err
		}
		return &nn.LayerNorm{Name: prefix + name, W: w, B: b, Eps: eps}, nil
	}
	for i := 0; i < cfg.NumLayers; i++ {
		p := fmt.Sprintf("h.%d.", i)
		l := &Layer{}
		if l.LN1, err = norm(p + "ln_1"); err != nil {
			return nil, err
		}
		if l.Attn, err = conv(p+"attn.c_attn", 3*D, D); err != nil {
			return nil, err
		}
		if l.AttnProj, err = conv(p+"attn.c_proj", D, D); err != nil {
			return nil, err
		}
		if l.LN2, err = norm(p + "ln_2"); err != nil {
			return nil, err
		}
		if l.FC, err = conv(p+"mlp.c_fc", F, D); err != nil {
			return nil, err
		}
		if l.Proj, err = conv(p+"mlp.c_proj", D, F); err != nil {
			return nil, err
		}
		for _, lin := range []*nn.Linear{l.Attn, l.AttnProj, l.FC, l.Proj} {
			lin.Block = i
		}
		m.Layers = append(m.Layers, l)
	}
	if m.LNF, err = norm("ln_f"); err != nil {
		return nil, err
	}
	m.Head = &nn.Linear{Name: "lm_head", Block: -1, In: D, Out: V, W: wte}
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() *config.Config { return m.cfg }

// Linears lists c_attn, attn.c_proj, c_fc, mlp.c_proj of every layer, then lm_head.
func (m *Model) Linears() []*nn.Linear {
	var ls []*nn.Linear
	for _, l := range m.Layers {
		ls = append(ls, l.Attn, l.AttnProj, l.FC, l.Proj)
	}
	return append(ls, m.Head)
}

// SharedInputs is empty: GPT-2 fuses q, k and v into one layer, c_attn, and no two Linear layers
// read the same input.
func (m *Model) SharedInputs() map[string]string { return map[string]string{} }

// Params lists every parameter with its Hugging Face name (with the "transformer." prefix).
func (m *Model) Params() []model.Param {
	ps := []model.Param{
		{Name: m.WTE.Name + ".weight", Value: m.WTE.Table, Grad: m.WTE.Grad},
		{Name: m.WPE.Name + ".weight", Value: m.WPE.Table, Grad: m.WPE.Grad},
	}
	norm := func(n *nn.LayerNorm) {
		ps = append(ps, model.Param{Name: n.Name + ".weight", Value: n.W, Grad: n.GradW},
			model.Param{Name: n.Name + ".bias", Value: n.B, Grad: n.GradB})
	}
	linear := func(l *nn.Linear) {
		ps = append(ps, model.Param{Name: l.Name + ".weight", Value: l.W, Grad: l.GradW, Transposed: true},
			model.Param{Name: l.Name + ".bias", Value: l.B, Grad: l.GradB})
	}
	for _, l := range m.Layers {
		norm(l.LN1)
		linear(l.Attn)
		linear(l.AttnProj)
		norm(l.LN2)
		linear(l.FC)
		linear(l.Proj)
	}
	norm(m.LNF)
	return ps
}

// RequestGrads allocates gradients for every parameter.
func (m *Model) RequestGrads() {
	m.WTE.RequestGrads(m.be)
	m.WPE.RequestGrads(m.be)
	for _, l := range m.Layers {
		l.LN1.RequestGrads(m.be)
		l.LN2.RequestGrads(m.be)
		for _, lin := range []*nn.Linear{l.Attn, l.AttnProj, l.FC, l.Proj} {
			lin.RequestGrads(m.be)
		}
	}
	m.LNF.RequestGrads(m.be)
	m.Head.GradW = m.WTE.Grad
}

// headDim is the size of one attention head.
func (m *Model) headDim() int { return m.cfg.HiddenSize / m.cfg.NumHeads }

// scale is the attention score scale 1/√head_dim.
func (m *Model) scale() float32 { return float32(1 / math.Sqrt(float64(m.headDim()))) }
