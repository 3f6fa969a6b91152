package peft

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/nn"
)

// TestRankZeroLayerIsAbsent checks that a layer EVA gave rank 0 has no tensors and appears in
// neither target_modules nor rank_pattern, and that other layers keep their rank and alpha.
func TestRankZeroLayerIsAbsent(t *testing.T) {
	st := &eva.State{Config: eva.Config{R: 2, Alpha: 4, Rho: 2, Tau: 0.99, AdjustScaling: true}, Layers: []eva.LayerState{
		{Name: "m.a", In: 3, R: 2, Rank: 4, A: make([]float64, 12), Alpha: 8},
		{Name: "m.b", In: 3, R: 2, Rank: 0, Alpha: 0},
	}}
	linears := []*nn.Linear{{Name: "m.a", In: 3, Out: 5}, {Name: "m.b", In: 3, Out: 5}}
	c, layers, err := FromEVA(st, linears, "base")
	if err != nil {
		t.Fatal(err)
	}
	if c.Eva.UseLabelMask {
		t.Error("a state calibrated without the label mask gave use_label_mask = true")
	}
	st.LabelMask = true
	if c, _, _ := FromEVA(st, linears, "base"); !c.Eva.UseLabelMask {
		t.Error("a state calibrated with the label mask gave use_label_mask = false")
	}
	dir := filepath.Join(t.TempDir(), "ad")
	if err := Save(dir, c, layers); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if strings.Contains(string(cfg), "m.b") {
		t.Errorf("rank-0 layer in adapter_config.json:\n%s", cfg)
	}
	if !strings.Contains(string(cfg), `"m.a": 4`) || !strings.Contains(string(cfg), `"m.a": 8.0`) {
		t.Errorf("rank/alpha pattern of m.a missing:\n%s", cfg)
	}
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, n := range f.Names() {
		if strings.Contains(n, "m.b") {
			t.Errorf("rank-0 layer has tensor %s", n)
		}
	}
	st.Layers[0].Rank = 0
	if _, _, err := FromEVA(st, linears, "base"); err == nil {
		t.Error("an adapter with every rank 0 was accepted")
	}
}
