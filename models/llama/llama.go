// Package llama implements the Llama family of causal language models (Llama 2/3, Mistral, Qwen2):
// RMSNorm, rotary position embeddings (with llama3 scaling), grouped-query attention, a SwiGLU MLP,
// optional q/k/v/o and MLP biases and a tied or untied output head, computed as transformers
// computes them, with an explicit backward pass.
package llama

import (
	"fmt"
	"math"

	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Layer is one decoder block.
type Layer struct {
	// AttnNorm and MLPNorm are input_layernorm and post_attention_layernorm.
	AttnNorm, MLPNorm *nn.RMSNorm
	// Q, K, V, O are the attention projections; Gate, Up, Down the MLP.
	Q, K, V, O, Gate, Up, Down *nn.Linear
	// Window is the number of most recent positions the layer's attention sees (sliding-window
	// attention); 0: the whole context.
	Window int
}

// Model is a Llama-family causal LM.
type Model struct {
	cfg    *config.Config
	be     tensor.Backend
	Embed  *nn.Embedding
	Layers []*Layer
	Norm   *nn.RMSNorm
	// Head is lm_head; when the embeddings are tied its weight is Embed.Table.
	Head    *nn.Linear
	tied    bool
	invFreq []float32
	acts    *activations
}

// Load builds the model from a validated configuration and a weight source.
func Load(cfg *config.Config, ld *model.Loader) (*Model, error) {
	switch cfg.ModelType {
	case "llama", "mistral", "qwen2":
	default:
		return nil, fmt.Errorf("%s: model_type %q is not a Llama-family model", ld.Origin, cfg.ModelType)
	}
	if cfg.Activation != "silu" {
		return nil, fmt.Errorf("%s: hidden_act %q is not supported for %s (want silu)", ld.Origin, cfg.Activation, cfg.ModelType)
	}
	D, F, V := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize
	qDim, kvDim := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	m := &Model{cfg: cfg, be: ld.Backend, tied: cfg.TieWordEmbeddings}
	eps := float32(cfg.NormEps)

	table, err := ld.Load("model.embed_tokens.weight", V, D)
	if err != nil {
		return nil, err
	}
	m.Embed = &nn.Embedding{Name: "model.embed_tokens", Table: table}

	linear := func(name string, out, in int, bias bool) (*nn.Linear, error) {
		w, err := ld.Load(name+".weight", out, in)
		if err != nil {
			return nil, err
		}
		var b *tensor.Tensor
		if bias {
			if b, err = ld.Load(name+".bias", out); err != nil {
				return nil, err
			}
		}
		return nn.NewLinear(name, w, b)
	}
	norm := func(name string) (*nn.RMSNorm, error) {
		w, err := ld.Load(name+".weight", D)
		if err != nil {
			return nil, err
		}
		return &nn.RMSNorm{Name: name, W: w, Eps: eps}, nil
	}
	for i := 0; i < cfg.NumLayers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		l := &Layer{}
		if cfg.SlidingWindow > 0 && i >= cfg.FirstSlidingLayer {
			l.Window = cfg.SlidingWindow
		}
		steps := []struct {
			dst     **nn.Linear
			name    string
			out, in int
			hasBias bool
		}{
			{&l.Q, p + "self_attn.q_proj", qDim, D, cfg.QKVBias},
			{&l.K, p + "self_attn.k_proj", kvDim, D, cfg.QKVBias},
			{&l.V, p + "self_attn.v_proj", kvDim, D, cfg.QKVBias},
			{&l.O, p + "self_attn.o_proj", D, qDim, cfg.OBias},
			{&l.Gate, p + "mlp.gate_proj", F, D, cfg.MLPBias},
			{&l.Up, p + "mlp.up_proj", F, D, cfg.MLPBias},
			{&l.Down, p + "mlp.down_proj", D, F, cfg.MLPBias},
		}
		for _, s := range steps {
			if *s.dst, err = linear(s.name, s.out, s.in, s.hasBias); err != nil {
				return nil, err
			}
		}
		if l.AttnNorm, err = norm(p + "input_layernorm"); err != nil {
			return nil, err
		}
		if l.MLPNorm, err = norm(p + "post_attention_layernorm"); err != nil {
			return nil, err
		}
		for _, lin := range []*nn.Linear{l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down} {
			lin.Block = i
		}
		m.Layers = append(m.Layers, l)
	}
	if m.Norm, err = norm("model.norm"); err != nil {
		return nil, err
	}
	if m.tied {
		m.Head = &nn.Linear{Name: "lm_head", Block: -1, In: D, Out: V, W: table}
	} else if m.Head, err = linear("lm_head", V, D, false); err != nil {
		return nil, err
	}
	m.invFreq = model.InvFreq(cfg.HeadDim, cfg.RopeTheta, cfg.RopeScaling)
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() *config.Config { return m.cfg }

// Linears lists q, k, v, o, gate, up, down of every layer, then lm_head.
func (m *Model) Linears() []*nn.Linear {
	var ls []*nn.Linear
	for _, l := range m.Layers {
		ls = append(ls, l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down)
	}
	return append(ls, m.Head)
}

// SharedInputs maps k_proj and v_proj to q_proj (all read the attention norm's output) and up_proj
// to gate_proj (both read the MLP norm's output).
func (m *Model) SharedInputs() map[string]string {
	s := map[string]string{}
	for _, l := range m.Layers {
		s[l.K.Name], s[l.V.Name], s[l.Up.Name] = l.Q.Name, l.Q.Name, l.Gate.Name
	}
	return s
}

// Params lists every parameter with its Hugging Face name.
func (m *Model) Params() []model.Param {
	ps := []model.Param{{Name: "model.embed_tokens.weight", Value: m.Embed.Table, Grad: m.Embed.Grad}}
	linear := func(l *nn.Linear) {
		ps = append(ps, model.Param{Name: l.Name + ".weight", Value: l.W, Grad: l.GradW})
		if l.B != nil {
			ps = append(ps, model.Param{Name: l.Name + ".bias", Value: l.B, Grad: l.GradB})
		}
	}
	for _, l := range m.Layers {
		for _, lin := range []*nn.Linear{l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down} {
			linear(lin)
		}
		ps = append(ps,
			model.Param{Name: l.AttnNorm.Name + ".weight", Value: l.AttnNorm.W, Grad: l.AttnNorm.GradW},
			model.Param{Name: l.MLPNorm.Name + ".weight", Value: l.MLPNorm.W, Grad: l.MLPNorm.GradW})
	}
	ps = append(ps, model.Param{Name: "model.norm.weight", Value: m.Norm.W, Grad: m.Norm.GradW})
	if !m.tied {
		linear(m.Head)
	}
	return ps
}

// RequestGrads allocates gradients for every parameter.
func (m *Model) RequestGrads() {
	m.Embed.RequestGrads(m.be)
	for _, l := range m.Layers {
		for _, lin := range []*nn.Linear{l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down} {
			lin.RequestGrads(m.be)
		}
		l.AttnNorm.RequestGrads(m.be)
		l.MLPNorm.RequestGrads(m.be)
	}
	m.Norm.RequestGrads(m.be)
	if m.tied {
		m.Head.GradW = m.Embed.Grad
	} else {
		m.Head.RequestGrads(m.be)
	}
}

// scale is the attention score scale 1/√head_dim.
func (m *Model) scale() float32 { return float32(1 / math.Sqrt(float64(m.cfg.HeadDim))) }
