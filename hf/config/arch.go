package config

import (
	"fmt"
	"slices"
	"strings"
)

// Defaults of the transformers config classes, applied when config.json omits a field.
const (
	defaultRMSNormEps      = 1e-6
	defaultLayerNormEps    = 1e-5
	defaultRopeTheta       = 10000.0
	defaultSlidingWindow   = 4096
	defaultMaxWindowLayers = 28
)

// common reads the fields every supported architecture shares.
func (r *reader) common(c *Config) {
	c.Architectures = r.stringList("architectures")
	if dtype, ok := r.str("torch_dtype"); ok {
		c.TorchDType = dtype
	} else if dtype, ok := r.str("dtype"); ok {
		c.TorchDType = dtype
	}
	c.VocabSize = r.required("vocab_size")
}

// llamaFamily reads llama, mistral and qwen2 configs, which share LlamaConfig's key names.
func (r *reader) llamaFamily(c *Config) {
	r.common(c)
	c.HiddenSize = r.required("hidden_size")
	c.IntermediateSize = r.required("intermediate_size")
	c.NumLayers = r.required("num_hidden_layers")
	c.NumHeads = r.required("num_attention_heads")
	c.NumKVHeads = r.defaultInt("num_key_value_heads", c.NumHeads)
	c.MaxPositions = r.required("max_position_embeddings")
	c.NormEps = r.defaultFloat("rms_norm_eps", defaultRMSNormEps)
	c.TieWordEmbeddings = r.defaultBool("tie_word_embeddings", false)
	c.Activation = r.activation("hidden_act", SiLU)
	r.headDim(c)
	r.rope(c)

	switch c.ModelType {
	case Llama:
		attnBias := r.defaultBool("attention_bias", false)
		c.QKVBias, c.OBias = attnBias, attnBias
		c.MLPBias = r.defaultBool("mlp_bias", false)
	case Mistral:
		c.SlidingWindow = defaultSlidingWindow
		if _, present := r.fields["sliding_window"]; present {
			c.SlidingWindow = r.defaultInt("sliding_window", 0) // null: no window
		}
	case Qwen2:
		c.QKVBias = true
		if r.defaultBool("use_sliding_window", false) {
			c.SlidingWindow = r.defaultInt("sliding_window", defaultSlidingWindow)
			c.FirstSlidingLayer = r.defaultInt("max_window_layers", defaultMaxWindowLayers)
		}
	}
	if c.SlidingWindow > 0 {
		r.layerTypes(c)
	}
}

// layerTypes applies layer_types, which transformers v5 writes and prefers over
// max_window_layers when present. Only patterns where the sliding layers form a suffix are
// representable.
func (r *reader) layerTypes(c *Config) {
	types := r.stringList("layer_types")
	if types == nil || r.err != nil {
		return
	}
	if len(types) != c.NumLayers {
		r.fail("layer_types", "lists %d layers, num_hidden_layers is %d", len(types), c.NumLayers)
		return
	}
	first := len(types)
	for i, t := range types {
		switch {
		case t != "full_attention" && t != "sliding_attention":
			r.fail("layer_types", "unsupported layer type %q at %d (supported: full_attention, sliding_attention)", t, i)
			return
		case t == "sliding_attention" && first == len(types):
			first = i
		case t == "full_attention" && first < len(types):
			r.fail("layer_types", "full attention at layer %d after sliding attention from layer %d is not supported", i, first)
			return
		}
	}
	if first == len(types) {
		c.SlidingWindow, c.FirstSlidingLayer = 0, 0
		return
	}
	c.FirstSlidingLayer = first
}

// gpt2 reads GPT2Config's keys onto the common fields.
func (r *reader) gpt2(c *Config) {
	r.common(c)
	c.HiddenSize = r.required("n_embd")
	c.IntermediateSize = r.defaultInt("n_inner", 4*c.HiddenSize)
	c.NumLayers = r.required("n_layer")
	c.NumHeads = r.required("n_head")
	c.NumKVHeads = c.NumHeads
	if c.NumHeads > 0 && c.HiddenSize > 0 {
		if c.HiddenSize%c.NumHeads != 0 {
			r.fail("n_embd", "%d is not divisible by n_head %d", c.HiddenSize, c.NumHeads)
		}
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	c.MaxPositions = r.required("n_positions")
	c.NormEps = r.defaultFloat("layer_norm_epsilon", defaultLayerNormEps)
	c.TieWordEmbeddings = r.defaultBool("tie_word_embeddings", true)
	c.Activation = r.activation("activation_function", GELUTanh)
	c.QKVBias, c.OBias, c.MLPBias = true, true, true
}

// headDim takes head_dim when given, else HiddenSize/NumHeads, which must then divide exactly.
func (r *reader) headDim(c *Config) {
	if d, ok := r.integer("head_dim"); ok {
		c.HeadDim = d
		return
	}
	if r.err != nil || c.NumHeads <= 0 || c.HiddenSize <= 0 {
		return // Validate reports the non-positive size
	}
	if c.HiddenSize%c.NumHeads != 0 {
		r.fail("hidden_size", "%d is not divisible by num_attention_heads %d, and head_dim is absent", c.HiddenSize, c.NumHeads)
		return
	}
	c.HeadDim = c.HiddenSize / c.NumHeads
}

// activation reads an activation name and maps it to its canonical name.
func (r *reader) activation(key, def string) string {
	name, ok := r.str(key)
	if !ok {
		return def
	}
	canonical, known := activationAliases[name]
	if !known {
		r.fail(key, "unsupported activation %q (supported: %s)", name, strings.Join(supportedActivations(), ", "))
	}
	return canonical
}

// supportedActivations lists every accepted activation name, sorted.
func supportedActivations() []string {
	names := make([]string, 0, len(activationAliases))
	for name := range activationAliases {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// rope reads rope_theta and rope_scaling, or their transformers v5 form, rope_parameters, which
// holds rope_theta alongside the scaling keys.
func (r *reader) rope(c *Config) {
	c.RopeTheta = r.defaultFloat("rope_theta", defaultRopeTheta)
	scaling, ok := r.object("rope_scaling")
	if !ok {
		if scaling, ok = r.object("rope_parameters"); ok {
			if theta, given := scaling.number("rope_theta"); given {
				if _, top := r.value("rope_theta"); !top {
					c.RopeTheta = theta
				}
			}
		}
	}
	if ok {
		c.RopeScaling = scaling.ropeScaling()
		if r.err == nil {
			r.err = scaling.err
		}
	}
}

// ropeScaling reads a rope_scaling object; nil for the "default" type.
func (r *reader) ropeScaling() *RopeScaling {
	schemeKey := "rope_type"
	scheme, hasScheme := r.str(schemeKey)
	if legacy, ok := r.str("type"); ok {
		if hasScheme && legacy != scheme {
			r.fail("type", "%q contradicts rope_type %q", legacy, scheme)
			return nil
		}
		scheme, hasScheme, schemeKey = legacy, true, "type"
	}
	if r.err != nil {
		return nil
	}
	switch {
	case !hasScheme:
		r.fail("rope_type", "required but missing")
		return nil
	case scheme == "default":
		return nil
	case scheme != "llama3":
		r.fail(schemeKey, "unsupported rope scaling %q (supported: llama3, default)", scheme)
		return nil
	}
	s := &RopeScaling{Type: scheme}
	var ok [4]bool
	s.Factor, ok[0] = r.number("factor")
	s.LowFreqFactor, ok[1] = r.number("low_freq_factor")
	s.HighFreqFactor, ok[2] = r.number("high_freq_factor")
	s.OriginalMaxPositions, ok[3] = r.integer("original_max_position_embeddings")
	for i, key := range []string{"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"} {
		if !ok[i] && r.err == nil {
			r.fail(key, "required for llama3 rope scaling but missing")
		}
	}
	return s
}

// String summarises the configuration on one line.
func (c *Config) String() string {
	return fmt.Sprintf("%s: %d layers, hidden %d, MLP %d, %d heads (%d kv) of %d, vocab %d, context %d",
		c.ModelType, c.NumLayers, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim,
		c.VocabSize, c.MaxPositions)
}
