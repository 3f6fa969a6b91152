package config

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

// remove, as an override value, deletes the key.
var remove = struct{}{}

// minimalLlama holds only the fields a llama config must have.
var minimalLlama = map[string]any{
	"model_type": "llama", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
	"num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 256,
}

// minimalGPT2 holds only the fields a gpt2 config must have.
var minimalGPT2 = map[string]any{
	"model_type": "gpt2", "vocab_size": 1000, "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 128,
}

// configJSON encodes base with overrides applied (json.RawMessage values are inserted verbatim).
func configJSON(t testing.TB, base map[string]any, overrides map[string]any) []byte {
	t.Helper()
	m := maps.Clone(base)
	for k, v := range overrides {
		if v == remove {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mustParse parses data named "test.json" and fails the test on error.
func mustParse(t *testing.T, data []byte) *Config {
	t.Helper()
	c, err := Parse(data, "test.json")
	if err != nil {
		t.Fatalf("Parse(%s): %v", data, err)
	}
	return c
}

// wantErr fails unless err is non-nil and mentions every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}
