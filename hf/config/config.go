// Package config reads a Hugging Face config.json into one normalised Config shared by the
// supported decoder architectures (llama, mistral, qwen2, gpt2).
//
// Normalised means: each architecture's own key names (n_embd, hidden_size, ...) land in the same
// fields; values the file omits take the defaults of the corresponding transformers config class;
// aliases of one activation function collapse to one name; and rules that depend on the
// architecture (which projections carry a bias, whether the embeddings are tied) become plain
// booleans. Model code then needs no knowledge of config.json. Raw keeps the file's bytes so that a
// writer can copy the file unchanged. A Config is a plain value: the caller owns it.
package config

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Config is the normalised configuration of a decoder-only transformer.
type Config struct {
	// Path is the file the config was read from, used in error messages ("" if none).
	Path string
	// ModelType is config.json's model_type: "llama", "mistral", "qwen2" or "gpt2".
	ModelType string
	// Architectures lists the transformers classes named by the file (may be empty).
	Architectures []string
	// TorchDType is the storage type the checkpoint declares (torch_dtype or dtype), e.g.
	// "bfloat16"; "" when absent.
	TorchDType string

	// VocabSize is the number of token embeddings (vocab_size).
	VocabSize int
	// HiddenSize is the width of the residual stream (hidden_size; gpt2: n_embd).
	HiddenSize int
	// IntermediateSize is the width of the MLP's hidden layer (intermediate_size; gpt2: n_inner,
	// default 4·n_embd).
	IntermediateSize int
	// NumLayers is the number of transformer blocks (num_hidden_layers; gpt2: n_layer).
	NumLayers int
	// NumHeads is the number of query heads (num_attention_heads; gpt2: n_head).
	NumHeads int
	// NumKVHeads is the number of key/value heads, fewer than NumHeads under grouped-query
	// attention (num_key_value_heads; default NumHeads; gpt2: NumHeads).
	NumKVHeads int
	// HeadDim is the width of one attention head (head_dim when given, else HiddenSize/NumHeads).
	HeadDim int
	// MaxPositions is the longest sequence the model was trained for (max_position_embeddings;
	// gpt2: n_positions, the size of its learned position table).
	MaxPositions int

	// NormEps is the epsilon of the normalisation layers: RMSNorm's rms_norm_eps for the llama
	// family (default 1e-6), LayerNorm's layer_norm_epsilon for gpt2 (default 1e-5).
	NormEps float64
	// RopeTheta is the base of the rotary position embedding (rope_theta, default 10000); 0 for
	// gpt2, which learns absolute positions instead.
	RopeTheta float64
	// RopeScaling adjusts rotary frequencies for long contexts; nil when absent or "default".
	RopeScaling *RopeScaling

	// TieWordEmbeddings is true when the output head reuses the token embedding matrix
	// (tie_word_embeddings; default false for the llama family, true for gpt2).
	TieWordEmbeddings bool
	// QKVBias is true when the query, key and value projections have biases (llama:
	// attention_bias; mistral: never; qwen2 and gpt2: always).
	QKVBias bool
	// OBias is true when the attention output projection has a bias (llama: attention_bias;
	// mistral and qwen2: never; gpt2: always).
	OBias bool
	// MLPBias is true when the MLP projections have biases (llama: mlp_bias; mistral and qwen2:
	// never; gpt2: always).
	MLPBias bool
	// Activation is the MLP's activation function, one of the Activation constants (llama
	// family: hidden_act, default "silu"; gpt2: activation_function, default "gelu_new").
	Activation string

	// SlidingWindow is the number of most recent positions a sliding-window attention layer sees;
	// 0 means every layer attends to the whole context. Mistral: sliding_window (default 4096,
	// null for none); qwen2: sliding_window (default 4096) only when use_sliding_window is true.
	SlidingWindow int
	// FirstSlidingLayer is the index of the first layer that uses SlidingWindow; earlier layers
	// attend to the whole context (qwen2: max_window_layers, default 28; mistral: 0). When the
	// file has layer_types (transformers v5), the first "sliding_attention" entry decides.
	FirstSlidingLayer int

	// Raw holds the file's bytes exactly as read.
	Raw json.RawMessage
}

// RopeScaling holds the "llama3" rotary frequency scaling: wavelengths shorter than
// OriginalMaxPositions/HighFreqFactor are kept, those longer than OriginalMaxPositions/LowFreqFactor
// are divided by Factor, and those between are interpolated smoothly.
type RopeScaling struct {
	// Type is the scaling scheme; only "llama3" is supported.
	Type string
	// Factor divides the low frequencies.
	Factor float64
	// LowFreqFactor and HighFreqFactor set the wavelength band that is interpolated.
	LowFreqFactor, HighFreqFactor float64
	// OriginalMaxPositions is the context length the model was pre-trained with.
	OriginalMaxPositions int
}

// Supported model types.
const (
	Llama   = "llama"
	Mistral = "mistral"
	Qwen2   = "qwen2"
	GPT2    = "gpt2"
)

// Supported activation functions (the canonical names Config.Activation takes).
const (
	SiLU     = "silu"     // x·sigmoid(x); the alias "swish" maps here
	GELU     = "gelu"     // exact x·Φ(x)
	GELUTanh = "gelu_new" // tanh approximation of GELU; "gelu_pytorch_tanh" and "gelu_fast" map here
	ReLU     = "relu"     // max(x, 0)
)

// SupportedModelTypes lists the model_type values Load accepts.
var SupportedModelTypes = []string{Llama, Mistral, Qwen2, GPT2}

// activationAliases maps each accepted activation name to its canonical name.
var activationAliases = map[string]string{
	"silu": SiLU, "swish": SiLU,
	"gelu":     GELU,
	"gelu_new": GELUTanh, "gelu_pytorch_tanh": GELUTanh, "gelu_fast": GELUTanh,
	"relu": ReLU,
}

// Load reads and validates the config.json at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates config.json content; source names it in errors (typically its path).
func Parse(data []byte, source string) (*Config, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("config %s: malformed JSON: %w", source, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("config %s: malformed JSON: top level is null, want an object", source)
	}
	r := &reader{source: source, fields: fields}
	modelType, ok := r.str("model_type")
	if r.err != nil {
		return nil, r.err
	}
	if !ok {
		return nil, fmt.Errorf("config %s: missing required field \"model_type\" (supported: %s)",
			source, strings.Join(SupportedModelTypes, ", "))
	}
	c := &Config{Path: source, ModelType: modelType, Raw: slices.Clone(data)}
	switch modelType {
	case Llama, Mistral, Qwen2:
		r.llamaFamily(c)
	case GPT2:
		r.gpt2(c)
	default:
		return nil, fmt.Errorf("config %s: unsupported model_type %q (supported: %s)",
			source, modelType, strings.Join(SupportedModelTypes, ", "))
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
