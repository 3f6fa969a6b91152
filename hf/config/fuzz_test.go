package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Parse (Load minus the file read). It must never panic, and
// every accepted config must be valid and parse again to the same Config from its Raw bytes.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add(configJSON(f, minimalGPT2, map[string]any{"n_inner": nil}))
	f.Add(configJSON(f, minimalLlama, map[string]any{"model_type": "qwen2", "use_sliding_window": true}))
	f.Add([]byte(`{"model_type":"mistral","rope_scaling":{"type":"llama3"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.json")
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
		if c.NumHeads%c.NumKVHeads != 0 || c.HeadDim <= 0 {
			t.Fatalf("accepted config breaks head invariants: %+v", *c)
		}
		again, err := Parse(c.Raw, "fuzz.json")
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("reparsing Raw gives %+v, %v", again, err)
		}
	})
}
