package peft

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad hands Load arbitrary adapter_config.json files next to a real adapter's weights (PEFT's
// own, plain LoRA with rank and alpha patterns, or DoRA): it must never panic, every error must
// name the adapter file at fault, and what it accepts must be consistent — each layer's A is r × in
// and B out × r, with r ≥ 1 and DoRA magnitudes only with use_dora.
func FuzzLoad(f *testing.F) {
	for _, src := range []string{"../testdata/lora/plain/adapter", "../testdata/lora/dora/adapter"} {
		cfg, err := os.ReadFile(filepath.Join(src, ConfigFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cfg, strings.Contains(src, "dora"))
	}
	f.Add([]byte(`{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "alpha_pattern": {"(": 1, "q_proj": 2}}`), false)
	f.Add([]byte(`{"peft_type": "LORA", "r": 4, "lora_alpha": 16, "rank_pattern": {"model.layers.0.mlp.gate_proj": 0}}`), false)
	f.Add([]byte(`{"peft_type": "LORA", "r": 4, "lora_alpha": 16, "use_dora": true, "lora_dropout": 0.999}`), true)
	weights := map[bool][]byte{}
	for dora, src := range map[bool]string{false: "../testdata/lora/plain/adapter", true: "../testdata/lora/dora/adapter"} {
		b, err := os.ReadFile(filepath.Join(src, WeightsFile))
		if err != nil {
			f.Fatal(err)
		}
		weights[dora] = b
	}
	f.Fuzz(func(t *testing.T, cfg []byte, doraWeights bool) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, WeightsFile), weights[doraWeights], 0o644); err != nil {
			t.Fatal(err)
		}
		c, layers, err := Load(dir)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error does not name the adapter: %v", err)
			}
			return
		}
		if c.R < 1 || len(layers) == 0 {
			t.Fatalf("accepted r = %d with %d layers", c.R, len(layers))
		}
		for _, l := range layers {
			if l.Rank < 1 || len(l.A) != l.Rank*l.In || len(l.B) != l.Out*l.Rank {
				t.Fatalf("%s: rank %d, A %d values for in %d, B %d for out %d", l.Module, l.Rank, len(l.A), l.In, len(l.B), l.Out)
			}
			if (l.Magnitude != nil) != c.DoRA {
				t.Fatalf("%s: magnitude %v with use_dora %v", l.Module, l.Magnitude != nil, c.DoRA)
			}
		}
	})
}
