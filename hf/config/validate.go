package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// fieldKeys maps Config fields to the config.json keys they come from, per key naming scheme.
var fieldKeys = map[string]map[string]string{
	Llama: {
		"VocabSize": "vocab_size", "HiddenSize": "hidden_size", "IntermediateSize": "intermediate_size",
		"NumLayers": "num_hidden_layers", "NumHeads": "num_attention_heads", "NumKVHeads": "num_key_value_heads",
		"HeadDim": "head_dim", "MaxPositions": "max_position_embeddings", "NormEps": "rms_norm_eps",
		"RopeTheta": "rope_theta", "RopeScaling": "rope_scaling", "Activation": "hidden_act",
		"SlidingWindow": "sliding_window", "FirstSlidingLayer": "max_window_layers",
	},
	GPT2: {
		"VocabSize": "vocab_size", "HiddenSize": "n_embd", "IntermediateSize": "n_inner",
		"NumLayers": "n_layer", "NumHeads": "n_head", "NumKVHeads": "n_head", "HeadDim": "n_embd/n_head",
		"MaxPositions": "n_positions", "NormEps": "layer_norm_epsilon", "RopeTheta": "rope_theta",
		"RopeScaling": "rope_scaling", "Activation": "activation_function",
		"SlidingWindow": "sliding_window", "FirstSlidingLayer": "max_window_layers",
	},
}

// fieldError reports a problem with a Config field, naming the file and the config.json key.
func (c *Config) fieldError(field, format string, args ...any) error {
	scheme := Llama
	if c.ModelType == GPT2 {
		scheme = GPT2
	}
	return fmt.Errorf("config %s: field %q (%s): %s", c.name(), fieldKeys[scheme][field], field, fmt.Sprintf(format, args...))
}

// Validate checks that the configuration describes a model this project can build: a supported
// type, positive sizes, heads that group evenly, a finite positive norm epsilon, a usable rotary
// setup and a supported activation. Load calls it; call it again after editing a Config.
func (c *Config) Validate() error {
	if !slices.Contains(SupportedModelTypes, c.ModelType) {
		return fmt.Errorf("config %s: unsupported model_type %q (supported: %s)",
			c.name(), c.ModelType, strings.Join(SupportedModelTypes, ", "))
	}
	sizes := []struct {
		field string
		value int
	}{
		{"VocabSize", c.VocabSize}, {"HiddenSize", c.HiddenSize}, {"IntermediateSize", c.IntermediateSize},
		{"NumLayers", c.NumLayers}, {"NumHeads", c.NumHeads}, {"NumKVHeads", c.NumKVHeads},
		{"HeadDim", c.HeadDim}, {"MaxPositions", c.MaxPositions},
	}
	for _, s := range sizes {
		if s.value <= 0 {
			return c.fieldError(s.field, "must be positive, got %d", s.value)
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return c.fieldError("NumKVHeads", "%d does not divide the %d attention heads", c.NumKVHeads, c.NumHeads)
	}
	if c.ModelType == GPT2 && c.HeadDim*c.NumHeads != c.HiddenSize {
		return c.fieldError("HeadDim", "%d heads of %d do not make the hidden size %d", c.NumHeads, c.HeadDim, c.HiddenSize)
	}
	if !(c.NormEps > 0) || math.IsInf(c.NormEps, 0) {
		return c.fieldError("NormEps", "must be positive and finite, got %v", c.NormEps)
	}
	if err := c.validatePositions(); err != nil {
		return err
	}
	if canonical, ok := activationAliases[c.Activation]; !ok || canonical != c.Activation {
		return c.fieldError("Activation", "unsupported activation %q (supported: %s, %s, %s, %s)",
			c.Activation, SiLU, GELU, GELUTanh, ReLU)
	}
	if c.SlidingWindow < 0 {
		return c.fieldError("SlidingWindow", "must not be negative, got %d", c.SlidingWindow)
	}
	if c.FirstSlidingLayer < 0 {
		return c.fieldError("FirstSlidingLayer", "must not be negative, got %d", c.FirstSlidingLayer)
	}
	return nil
}

// validatePositions checks the position encoding: rotary for the llama family, learned for gpt2.
func (c *Config) validatePositions() error {
	if c.ModelType == GPT2 {
		switch {
		case c.RopeTheta != 0:
			return c.fieldError("RopeTheta", "must be 0 for gpt2, which has learned positions, got %v", c.RopeTheta)
		case c.RopeScaling != nil:
			return c.fieldError("RopeScaling", "must be nil for gpt2, which has learned positions")
		case c.SlidingWindow != 0:
			return c.fieldError("SlidingWindow", "must be 0 for gpt2, got %d", c.SlidingWindow)
		}
		return nil
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return c.fieldError("RopeTheta", "must be positive and finite, got %v", c.RopeTheta)
	}
	if c.HeadDim%2 != 0 {
		return c.fieldError("HeadDim", "must be even for rotary embeddings, got %d", c.HeadDim)
	}
	s := c.RopeScaling
	if s == nil {
		return nil
	}
	positiveFinite := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case s.Type != "llama3":
		return c.fieldError("RopeScaling", "unsupported type %q (supported: llama3)", s.Type)
	case !positiveFinite(s.Factor):
		return c.fieldError("RopeScaling", "factor must be positive and finite, got %v", s.Factor)
	case !positiveFinite(s.LowFreqFactor) || !positiveFinite(s.HighFreqFactor):
		return c.fieldError("RopeScaling", "low_freq_factor %v and high_freq_factor %v must be positive and finite",
			s.LowFreqFactor, s.HighFreqFactor)
	case s.HighFreqFactor <= s.LowFreqFactor:
		return c.fieldError("RopeScaling", "high_freq_factor %v must exceed low_freq_factor %v",
			s.HighFreqFactor, s.LowFreqFactor)
	case s.OriginalMaxPositions <= 0:
		return c.fieldError("RopeScaling", "original_max_position_embeddings must be positive, got %d",
			s.OriginalMaxPositions)
	}
	return nil
}

// name identifies the config in error messages.
func (c *Config) name() string {
	if c.Path == "" {
		return "(unnamed)"
	}
	return c.Path
}
