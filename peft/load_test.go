package peft

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// adapterWithConfig copies PEFT's plain fixture adapter into a temporary directory with edit
// applied to its adapter_config.json.
func adapterWithConfig(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	src := "../testdata/lora/plain/adapter"
	b, err := os.ReadFile(filepath.Join(src, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	if b, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(filepath.Join(src, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, WeightsFile), w, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLoadPatternKeys: rank and alpha pattern keys follow PEFT's rule (a regular expression matching
// a suffix of the module path): a suffix key sets every matching layer's alpha, a rank_pattern key
// that contradicts the tensors is an error wherever it matches, and a key that is not a regular
// expression is an error naming it (it used to be skipped, leaving those layers at lora_alpha).
func TestLoadPatternKeys(t *testing.T) {
	dir := adapterWithConfig(t, func(c map[string]any) { c["alpha_pattern"] = map[string]any{"down_proj": 7} })
	_, layers, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		want := 16.0
		if strings.HasSuffix(l.Module, "down_proj") {
			want = 7
		}
		if l.Alpha != want {
			t.Errorf("%s: alpha %v, want %v", l.Module, l.Alpha, want)
		}
	}
	dir = adapterWithConfig(t, func(c map[string]any) { c["rank_pattern"] = map[string]any{"gate_proj": 3} })
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `rank 6 in the tensors but 3 in rank_pattern (key "gate_proj")`) {
		t.Errorf("a suffix rank_pattern key contradicting the tensors: %v", err)
	}
	dir = adapterWithConfig(t, func(c map[string]any) { c["alpha_pattern"] = map[string]any{"q_proj(": 2} })
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `alpha_pattern key "q_proj("`) || !strings.Contains(err.Error(), dir) {
		t.Errorf("an alpha_pattern key that is not a regular expression: %v", err)
	}
}
