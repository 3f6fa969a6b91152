package config

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoadRealConfigs(t *testing.T) {
	cases := map[string]Config{
		"llama-3.2-1b.json": {
			ModelType: Llama, Architectures: []string{"LlamaForCausalLM"}, TorchDType: "bfloat16",
			VocabSize: 128256, HiddenSize: 2048, IntermediateSize: 8192, NumLayers: 16,
			NumHeads: 32, NumKVHeads: 8, HeadDim: 64, MaxPositions: 131072,
			NormEps: 1e-5, RopeTheta: 500000,
			RopeScaling:       &RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192},
			TieWordEmbeddings: true, Activation: SiLU,
		},
		"mistral-7b-v0.1.json": {
			ModelType: Mistral, Architectures: []string{"MistralForCausalLM"}, TorchDType: "bfloat16",
			VocabSize: 32000, HiddenSize: 4096, IntermediateSize: 14336, NumLayers: 32,
			NumHeads: 32, NumKVHeads: 8, HeadDim: 128, MaxPositions: 32768,
			NormEps: 1e-5, RopeTheta: 10000, Activation: SiLU, SlidingWindow: 4096,
		},
		"qwen2.5-0.5b.json": {
			ModelType: Qwen2, Architectures: []string{"Qwen2ForCausalLM"}, TorchDType: "bfloat16",
			VocabSize: 151936, HiddenSize: 896, IntermediateSize: 4864, NumLayers: 24,
			NumHeads: 14, NumKVHeads: 2, HeadDim: 64, MaxPositions: 32768,
			NormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, QKVBias: true, Activation: SiLU,
		},
		"gpt2.json": {
			ModelType: GPT2, Architectures: []string{"GPT2LMHeadModel"},
			VocabSize: 50257, HiddenSize: 768, IntermediateSize: 3072, NumLayers: 12,
			NumHeads: 12, NumKVHeads: 12, HeadDim: 64, MaxPositions: 1024, NormEps: 1e-5,
			TieWordEmbeddings: true, QKVBias: true, OBias: true, MLPBias: true, Activation: GELUTanh,
		},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			got, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(path)
			if !bytes.Equal(got.Raw, raw) || got.Path != path {
				t.Errorf("Raw or Path not kept: path %q", got.Path)
			}
			got.Raw, got.Path = nil, ""
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestLlamaFamilyDefaults(t *testing.T) {
	c := mustParse(t, configJSON(t, minimalLlama, nil))
	want := Config{
		Path: "test.json", ModelType: Llama, VocabSize: 1000, HiddenSize: 64, IntermediateSize: 128,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 4, HeadDim: 16, MaxPositions: 256,
		NormEps: 1e-6, RopeTheta: 10000, Activation: SiLU,
	}
	c.Raw = nil
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("got  %+v\nwant %+v", *c, want)
	}
}

func TestArchitectureRules(t *testing.T) {
	qwen := configJSON(t, minimalLlama, map[string]any{"model_type": "qwen2"})
	var qwenMap map[string]any
	json.Unmarshal(qwen, &qwenMap)
	mistral := map[string]any{"model_type": "mistral"}
	cases := []struct {
		name  string
		data  []byte
		check func(c *Config) bool
	}{
		{"llama attention_bias", configJSON(t, minimalLlama, map[string]any{"attention_bias": true}),
			func(c *Config) bool { return c.QKVBias && c.OBias && !c.MLPBias }},
		{"llama mlp_bias", configJSON(t, minimalLlama, map[string]any{"mlp_bias": true}),
			func(c *Config) bool { return !c.QKVBias && !c.OBias && c.MLPBias }},
		{"mistral default window", configJSON(t, minimalLlama, mistral),
			func(c *Config) bool { return c.SlidingWindow == 4096 && c.FirstSlidingLayer == 0 && !c.QKVBias }},
		{"mistral null window", configJSON(t, minimalLlama, map[string]any{"model_type": "mistral", "sliding_window": nil}),
			func(c *Config) bool { return c.SlidingWindow == 0 }},
		{"mistral ignores attention_bias", configJSON(t, minimalLlama, map[string]any{"model_type": "mistral", "attention_bias": true}),
			func(c *Config) bool { return !c.QKVBias && !c.OBias }},
		{"qwen2 biases and no window", qwen,
			func(c *Config) bool {
				return c.QKVBias && !c.OBias && !c.MLPBias && c.SlidingWindow == 0 && !c.TieWordEmbeddings
			}},
		{"qwen2 window defaults", configJSON(t, qwenMap, map[string]any{"use_sliding_window": true}),
			func(c *Config) bool { return c.SlidingWindow == 4096 && c.FirstSlidingLayer == 28 }},
		{"qwen2 window given", configJSON(t, qwenMap, map[string]any{"use_sliding_window": true, "sliding_window": 512, "max_window_layers": 1}),
			func(c *Config) bool { return c.SlidingWindow == 512 && c.FirstSlidingLayer == 1 }},
		{"qwen2 window unused", configJSON(t, qwenMap, map[string]any{"sliding_window": 512}),
			func(c *Config) bool { return c.SlidingWindow == 0 }},
		{"layer_types decide", configJSON(t, qwenMap, map[string]any{"use_sliding_window": true, "max_window_layers": 0,
			"layer_types": []string{"full_attention", "sliding_attention"}}),
			func(c *Config) bool { return c.SlidingWindow == 4096 && c.FirstSlidingLayer == 1 }},
		{"layer_types all full", configJSON(t, qwenMap, map[string]any{"use_sliding_window": true,
			"layer_types": []string{"full_attention", "full_attention"}}),
			func(c *Config) bool { return c.SlidingWindow == 0 && c.FirstSlidingLayer == 0 }},
		{"explicit tie", configJSON(t, minimalLlama, map[string]any{"tie_word_embeddings": true}),
			func(c *Config) bool { return c.TieWordEmbeddings }},
		{"gpt2 defaults", configJSON(t, minimalGPT2, nil),
			func(c *Config) bool {
				return c.IntermediateSize == 256 && c.TieWordEmbeddings && c.Activation == GELUTanh && c.NormEps == 1e-5 &&
					c.HeadDim == 16 && c.NumKVHeads == 4 && c.QKVBias && c.OBias && c.MLPBias && c.RopeTheta == 0
			}},
		{"gpt2 untied, n_inner, relu", configJSON(t, minimalGPT2, map[string]any{"tie_word_embeddings": false, "n_inner": 100, "activation_function": "relu"}),
			func(c *Config) bool { return !c.TieWordEmbeddings && c.IntermediateSize == 100 && c.Activation == ReLU }},
		{"grouped-query heads", configJSON(t, minimalLlama, map[string]any{"num_key_value_heads": 2}),
			func(c *Config) bool { return c.NumKVHeads == 2 && c.NumHeads == 4 }},
		{"explicit head_dim wins", configJSON(t, minimalLlama, map[string]any{"hidden_size": 100, "head_dim": 32}),
			func(c *Config) bool { return c.HeadDim == 32 && c.HiddenSize == 100 }},
		{"null head_dim", configJSON(t, minimalLlama, map[string]any{"head_dim": nil}),
			func(c *Config) bool { return c.HeadDim == 16 }},
		{"swish alias", configJSON(t, minimalLlama, map[string]any{"hidden_act": "swish"}),
			func(c *Config) bool { return c.Activation == SiLU }},
		{"tanh gelu alias", configJSON(t, minimalLlama, map[string]any{"hidden_act": "gelu_pytorch_tanh"}),
			func(c *Config) bool { return c.Activation == GELUTanh }},
		{"integral float size", configJSON(t, minimalLlama, map[string]any{"hidden_size": json.RawMessage("64.0")}),
			func(c *Config) bool { return c.HiddenSize == 64 }},
		{"legacy rope type key", configJSON(t, minimalLlama, map[string]any{"rope_scaling": map[string]any{
			"type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}}),
			func(c *Config) bool { return c.RopeScaling != nil && c.RopeScaling.Factor == 8 }},
		{"default rope type", configJSON(t, minimalLlama, map[string]any{"rope_scaling": map[string]any{"rope_type": "default", "type": "default"}}),
			func(c *Config) bool { return c.RopeScaling == nil }},
		{"rope_parameters", configJSON(t, minimalLlama, map[string]any{"rope_parameters": map[string]any{
			"rope_type": "llama3", "rope_theta": 500000, "factor": 32, "low_freq_factor": 1, "high_freq_factor": 4,
			"original_max_position_embeddings": 8192}}),
			func(c *Config) bool {
				return c.RopeTheta == 500000 && c.RopeScaling != nil && c.RopeScaling.Factor == 32
			}},
		{"dtype key", configJSON(t, minimalLlama, map[string]any{"dtype": "float32"}),
			func(c *Config) bool { return c.TorchDType == "float32" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if c := mustParse(t, tc.data); !tc.check(c) {
				t.Errorf("unexpected config %+v", *c)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	llama3 := func(edit map[string]any) map[string]any {
		s := map[string]any{"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4,
			"original_max_position_embeddings": 8192}
		for k, v := range edit {
			if v == remove {
				delete(s, k)
			} else {
				s[k] = v
			}
		}
		return map[string]any{"rope_scaling": s}
	}
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"malformed JSON", []byte(`{"model_type": "llama",`), []string{"malformed JSON"}},
		{"top-level array", []byte(`[1]`), []string{"malformed JSON"}},
		{"top-level null", []byte(`null`), []string{"malformed JSON"}},
		{"missing model_type", configJSON(t, minimalLlama, map[string]any{"model_type": remove}), []string{`"model_type"`, "missing", "llama, mistral, qwen2, gpt2"}},
		{"model_type not a string", configJSON(t, minimalLlama, map[string]any{"model_type": 3}), []string{`"model_type"`, "want a string"}},
		{"unsupported model_type", configJSON(t, minimalLlama, map[string]any{"model_type": "bert"}), []string{`"bert"`, "unsupported", "llama, mistral, qwen2, gpt2"}},
		{"size as string", configJSON(t, minimalLlama, map[string]any{"hidden_size": "64"}), []string{`"hidden_size"`, "want a number, got a string"}},
		{"fractional size", configJSON(t, minimalLlama, map[string]any{"hidden_size": 64.5}), []string{`"hidden_size"`, "want an integer"}},
		{"huge number", configJSON(t, minimalLlama, map[string]any{"rope_theta": json.RawMessage("1e400")}), []string{`"rope_theta"`, "out of range"}},
		{"bool as string", configJSON(t, minimalLlama, map[string]any{"tie_word_embeddings": "yes"}), []string{`"tie_word_embeddings"`, "want a boolean"}},
		{"architectures not a list", configJSON(t, minimalLlama, map[string]any{"architectures": "LlamaForCausalLM"}), []string{`"architectures"`, "array of strings"}},
		{"rope_theta as string", configJSON(t, minimalLlama, map[string]any{"rope_theta": "1e4"}), []string{`"rope_theta"`, "want a number"}},
		{"rope_scaling not an object", configJSON(t, minimalLlama, map[string]any{"rope_scaling": 5}), []string{`"rope_scaling"`, "want an object"}},
		{"missing vocab_size", configJSON(t, minimalLlama, map[string]any{"vocab_size": remove}), []string{`"vocab_size"`, "missing"}},
		{"missing intermediate_size", configJSON(t, minimalLlama, map[string]any{"intermediate_size": remove}), []string{`"intermediate_size"`, "missing"}},
		{"gpt2 missing n_embd", configJSON(t, minimalGPT2, map[string]any{"n_embd": remove}), []string{`"n_embd"`, "missing"}},
		{"zero hidden_size", configJSON(t, minimalLlama, map[string]any{"hidden_size": 0}), []string{`"hidden_size"`, "must be positive"}},
		{"negative layers", configJSON(t, minimalLlama, map[string]any{"num_hidden_layers": -1}), []string{`"num_hidden_layers"`, "must be positive, got -1"}},
		{"zero head_dim", configJSON(t, minimalLlama, map[string]any{"head_dim": 0}), []string{`"head_dim"`, "must be positive"}},
		{"zero vocab gpt2", configJSON(t, minimalGPT2, map[string]any{"vocab_size": 0}), []string{`"vocab_size"`, "must be positive"}},
		{"indivisible hidden", configJSON(t, minimalLlama, map[string]any{"hidden_size": 66}), []string{`"hidden_size"`, "not divisible by num_attention_heads 4"}},
		{"gpt2 indivisible", configJSON(t, minimalGPT2, map[string]any{"n_embd": 66}), []string{`"n_embd"`, "not divisible by n_head 4"}},
		{"kv heads do not divide", configJSON(t, minimalLlama, map[string]any{"num_key_value_heads": 3}), []string{`"num_key_value_heads"`, "does not divide"}},
		{"odd head_dim", configJSON(t, minimalLlama, map[string]any{"head_dim": 15}), []string{`"head_dim"`, "even"}},
		{"unsupported activation", configJSON(t, minimalLlama, map[string]any{"hidden_act": "quick_gelu"}), []string{`"hidden_act"`, `"quick_gelu"`, "silu"}},
		{"gpt2 unsupported activation", configJSON(t, minimalGPT2, map[string]any{"activation_function": "tanh"}), []string{`"activation_function"`, `"tanh"`}},
		{"zero eps", configJSON(t, minimalLlama, map[string]any{"rms_norm_eps": 0}), []string{`"rms_norm_eps"`, "positive"}},
		{"negative gpt2 eps", configJSON(t, minimalGPT2, map[string]any{"layer_norm_epsilon": -1e-5}), []string{`"layer_norm_epsilon"`, "positive"}},
		{"zero rope_theta", configJSON(t, minimalLlama, map[string]any{"rope_theta": 0}), []string{`"rope_theta"`, "positive"}},
		{"negative window", configJSON(t, minimalLlama, map[string]any{"model_type": "mistral", "sliding_window": -1}), []string{`"sliding_window"`, "negative"}},
		{"layer_types length", configJSON(t, minimalLlama, map[string]any{"model_type": "mistral", "layer_types": []string{"sliding_attention"}}),
			[]string{`"layer_types"`, "lists 1 layers"}},
		{"layer_types unknown", configJSON(t, minimalLlama, map[string]any{"model_type": "mistral", "layer_types": []string{"sliding_attention", "chunked"}}),
			[]string{`"layer_types"`, `"chunked"`}},
		{"layer_types interleaved", configJSON(t, minimalLlama, map[string]any{"model_type": "mistral", "layer_types": []string{"sliding_attention", "full_attention"}}),
			[]string{`"layer_types"`, "not supported"}},
		{"linear rope scaling", configJSON(t, minimalLlama, llama3(map[string]any{"rope_type": "linear"})), []string{`"rope_scaling.rope_type"`, `"linear"`, "llama3"}},
		{"yarn via legacy key", configJSON(t, minimalLlama, llama3(map[string]any{"rope_type": remove, "type": "yarn"})), []string{`"rope_scaling.type"`, `"yarn"`}},
		{"conflicting rope keys", configJSON(t, minimalLlama, llama3(map[string]any{"type": "dynamic"})), []string{`"rope_scaling.type"`, "contradicts"}},
		{"rope type missing", configJSON(t, minimalLlama, llama3(map[string]any{"rope_type": remove})), []string{`"rope_scaling.rope_type"`, "missing"}},
		{"llama3 without factor", configJSON(t, minimalLlama, llama3(map[string]any{"factor": remove})), []string{`"rope_scaling.factor"`, "missing"}},
		{"llama3 factor as string", configJSON(t, minimalLlama, llama3(map[string]any{"factor": "8"})), []string{`"rope_scaling.factor"`, "want a number"}},
		{"llama3 band reversed", configJSON(t, minimalLlama, llama3(map[string]any{"high_freq_factor": 1})), []string{`"rope_scaling"`, "must exceed"}},
		{"llama3 zero factor", configJSON(t, minimalLlama, llama3(map[string]any{"factor": 0})), []string{`"rope_scaling"`, "factor must be positive"}},
		{"llama3 bad original", configJSON(t, minimalLlama, llama3(map[string]any{"original_max_position_embeddings": 0})), []string{`"rope_scaling"`, "original_max_position_embeddings"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", *c)
			}
			wantErr(t, err, append([]string{path}, tc.want...)...)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/config.json")
	wantErr(t, err, "/nonexistent/config.json")
}

func TestValidate(t *testing.T) {
	base := mustParse(t, configJSON(t, minimalLlama, nil))
	gpt2 := mustParse(t, configJSON(t, minimalGPT2, nil))
	cases := []struct {
		name string
		from *Config
		edit func(c *Config)
		want []string
	}{
		{"unsupported type", base, func(c *Config) { c.ModelType = "bert" }, []string{`"bert"`}},
		{"kv heads", base, func(c *Config) { c.NumKVHeads = 3 }, []string{`"num_key_value_heads" (NumKVHeads)`}},
		{"alias not canonical", base, func(c *Config) { c.Activation = "swish" }, []string{`"hidden_act" (Activation)`, `"swish"`}},
		{"NaN eps", base, func(c *Config) { c.NormEps = math.NaN() }, []string{`"rms_norm_eps"`}},
		{"bad scaling type", base, func(c *Config) {
			c.RopeScaling = &RopeScaling{Type: "linear", Factor: 2, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8}
		}, []string{`"rope_scaling"`, `"linear"`}},
		{"gpt2 rope", gpt2, func(c *Config) { c.RopeTheta = 10000 }, []string{`"rope_theta"`, "learned positions"}},
		{"gpt2 head split", gpt2, func(c *Config) { c.HeadDim = 8 }, []string{`"n_embd/n_head"`}},
		{"gpt2 window", gpt2, func(c *Config) { c.SlidingWindow = 8 }, []string{`"sliding_window"`}},
		{"negative first sliding layer", base, func(c *Config) { c.FirstSlidingLayer = -1 }, []string{`"max_window_layers"`}},
		{"unnamed", base, func(c *Config) { c.Path = ""; c.VocabSize = 0 }, []string{"(unnamed)", `"vocab_size"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := *tc.from
			if err := c.Validate(); err != nil {
				t.Fatalf("unedited config invalid: %v", err)
			}
			tc.edit(&c)
			wantErr(t, c.Validate(), tc.want...)
		})
	}
}
