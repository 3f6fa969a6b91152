package config

import (
	"encoding/json"
	"fmt"
)

// LlamaJSON renders a Llama-architecture configuration as the config.json transformers writes for
// LlamaForCausalLM (for models eva creates, such as a pretrained house model). bos and eos are the
// special token ids; dtype is the storage type ("float32" or "bfloat16"). Only plain RoPE without
// scaling, no biases and no sliding window are expressible; anything else is an error.
func LlamaJSON(c *Config, bos, eos int, dtype string) ([]byte, error) {
	if c.RopeScaling != nil || c.QKVBias || c.OBias || c.MLPBias || c.SlidingWindow != 0 {
		return nil, fmt.Errorf("config: LlamaJSON writes plain Llama configurations only (no rope scaling, biases or sliding window)")
	}
	act := c.Activation
	if act == "" {
		act = "silu"
	}
	m := map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"model_type":              "llama",
		"vocab_size":              c.VocabSize,
		"hidden_size":             c.HiddenSize,
		"intermediate_size":       c.IntermediateSize,
		"num_hidden_layers":       c.NumLayers,
		"num_attention_heads":     c.NumHeads,
		"num_key_value_heads":     c.NumKVHeads,
		"head_dim":                c.HeadDim,
		"max_position_embeddings": c.MaxPositions,
		"rms_norm_eps":            c.NormEps,
		"rope_theta":              c.RopeTheta,
		"tie_word_embeddings":     c.TieWordEmbeddings,
		"hidden_act":              act,
		"attention_bias":          false,
		"mlp_bias":                false,
		"attention_dropout":       0.0,
		"initializer_range":       0.02,
		"bos_token_id":            bos,
		"eos_token_id":            eos,
		"torch_dtype":             dtype,
		"use_cache":               true,
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if _, err := Parse(b, "(generated config)"); err != nil {
		return nil, err
	}
	return b, nil
}
