package eva

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/eva-lora/eva/hf/safetensors"
)

// Readers for the PEFT reference fixtures in testdata/eva (see its README.md).

const fixtureDir = "../testdata/eva"

// fixture is the part of a <scenario>-<mode>.json file the tests use.
type fixture struct {
	Scenario string `json:"scenario"`
	Mode     string `json:"mode"`
	Lora     struct {
		R         int     `json:"r"`
		LoraAlpha float64 `json:"lora_alpha"`
	} `json:"lora"`
	EvaConfig struct {
		Rho                  float64 `json:"rho"`
		Tau                  float64 `json:"tau"`
		UseLabelMask         bool    `json:"use_label_mask"`
		Whiten               bool    `json:"whiten"`
		AdjustScalingFactors bool    `json:"adjust_scaling_factors"`
	} `json:"eva_config"`
	Modules           []string       `json:"modules"`
	InFeatures        map[string]int `json:"in_features"`
	EqualInputGroups  [][]string     `json:"equal_input_groups"`
	LayerHookMapOrder []string       `json:"layer_hook_map_order"`
	MaxComponents     map[string]int `json:"max_components"`
	RankBudget        int            `json:"rank_budget"`
	ForwardPasses     struct {
		Total int `json:"total"`
		SVD   int `json:"svd"`
		Cap   int `json:"cap"`
	} `json:"forward_passes"`
	Forwards []struct {
		Forward        int            `json:"forward"`
		Batch          int            `json:"batch"`
		Kind           string         `json:"kind"`
		Active         []string       `json:"active"`
		Fitted         []string       `json:"fitted"`
		RankDist       map[string]int `json:"rank_dist"`
		RankDistStable map[string]int `json:"rank_dist_stable_sort"`
	} `json:"forwards"`
	Layers map[string]struct {
		FittedSteps  int   `json:"fitted_steps"`
		NSamplesSeen int64 `json:"n_samples_seen"`
	} `json:"layers"`
	FinalRanksStable map[string]int `json:"final_ranks_stable_sort"`
	Adapter          struct {
		Config struct {
			AlphaPattern map[string]float64 `json:"alpha_pattern"`
			LoraAlpha    float64            `json:"lora_alpha"`
		} `json:"config"`
	} `json:"adapter"`
	Trace []struct {
		Forward int    `json:"forward"`
		Layer   string `json:"layer"`
		Step    int    `json:"step"`
		Batch   int    `json:"batch"`
		Rows    int    `json:"rows"`
	} `json:"trace"`
}

func loadFixture(t *testing.T, name string) *fixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtureDir, name+".json"))
	if err != nil {
		t.Fatalf("PEFT reference fixture: %v", err)
	}
	var f fixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return &f
}

// layers lists the fixture's target modules with their shared-input groups.
func (f *fixture) layers() []Layer {
	hookOf := map[string]string{}
	for _, g := range f.EqualInputGroups {
		for _, m := range g[1:] {
			hookOf[m] = g[0]
		}
	}
	var out []Layer
	for _, m := range f.Modules {
		out = append(out, Layer{Name: m, In: f.InFeatures[m], SharesInputWith: hookOf[m]})
	}
	return out
}

// config is the fixture's PEFT configuration in exact mode.
func (f *fixture) config() Config {
	return Config{R: f.Lora.R, Alpha: f.Lora.LoraAlpha, Rho: f.EvaConfig.Rho, Tau: f.EvaConfig.Tau,
		Whiten: f.EvaConfig.Whiten, AdjustScaling: f.EvaConfig.AdjustScalingFactors, SVD: Exact,
		MaxBatches: f.ForwardPasses.Cap}
}

// tensors is an open fixture safetensors file.
type tensors struct {
	t *testing.T
	f *safetensors.File
}

func openTensors(t *testing.T, name string) *tensors {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("PEFT reference fixture: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return &tensors{t, f}
}

func (ts *tensors) has(name string) bool {
	_, ok := ts.f.Info(name)
	return ok
}

func (ts *tensors) f32(name string) []float32 {
	ts.t.Helper()
	v, err := ts.f.Float32(name)
	if err != nil {
		ts.t.Fatal(err)
	}
	return v
}

// raw returns the bytes of a tensor of the given dtype and its shape.
func (ts *tensors) raw(name string, dt safetensors.DType) ([]byte, []int) {
	ts.t.Helper()
	info, ok := ts.f.Info(name)
	if !ok || info.DType != dt {
		ts.t.Fatalf("fixture tensor %s: present %v, dtype %s, want %s", name, ok, info.DType, dt)
	}
	b, _ := ts.f.Bytes(name)
	return b, info.Shape
}

func (ts *tensors) f64(name string) []float64 {
	ts.t.Helper()
	b, _ := ts.raw(name, safetensors.Float64)
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out
}

func (ts *tensors) i64(name string) int64 {
	ts.t.Helper()
	b, _ := ts.raw(name, safetensors.Int64)
	return int64(binary.LittleEndian.Uint64(b))
}

func (ts *tensors) flags(name string) []bool {
	ts.t.Helper()
	b, _ := ts.raw(name, safetensors.Uint8)
	out := make([]bool, len(b))
	for i, v := range b {
		out[i] = v != 0
	}
	return out
}

// inputs returns the trace's layer inputs X.<batch>.<layer> as a calibration source.
func (ts *tensors) inputs(in map[string]int) func(layer string, batch int) ([]float32, int) {
	cache := map[string][]float32{}
	return func(layer string, batch int) ([]float32, int) {
		key := fmt.Sprintf("X.%d.%s", batch%16, layer)
		x, ok := cache[key]
		if !ok {
			x = ts.f32(key)
			cache[key] = x
		}
		return x, len(x) / in[layer]
	}
}
