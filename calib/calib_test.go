package calib

import (
	"github.com/eva-lora/eva/internal/fixture"

	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/peft"
)

// The PEFT fixtures in testdata/eva were made by scripts/make_eva_reference.py with peft 0.21 on
// the tiny Llama of testdata/models/llama (see testdata/eva/README.md).
const (
	evaFixtures   = "../testdata/eva"
	modelFixtures = "../testdata/models/llama"
	targetSpec    = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
)

// scenario is one of the fixture settings.
type scenario struct {
	name      string
	r         int
	alpha     float64
	rho, tau  float64
	whiten    bool
	adjust    bool
	labelMask bool
}

var scenarios = []scenario{
	{name: "default", r: 8, alpha: 16, rho: 2, tau: 0.99, adjust: true, labelMask: true},
	{name: "rho1", r: 8, alpha: 16, rho: 1, tau: 0.99, adjust: true, labelMask: true},
	{name: "tau0", r: 8, alpha: 16, rho: 2, tau: 0, adjust: true, labelMask: true},
	{name: "nolabelmask", r: 8, alpha: 16, rho: 2, tau: 0.99, adjust: true},
	{name: "noadjust", r: 8, alpha: 16, rho: 2, tau: 0.99, labelMask: true},
	{name: "whiten", r: 8, alpha: 16, rho: 2, tau: 0.99, whiten: true, adjust: true, labelMask: true},
	{name: "rhohalf", r: 3, alpha: 6, rho: 1.5, tau: 0.99, adjust: true, labelMask: true},
}

// fixtureBatches reads the 16 calibration batches.
func fixtureBatches(t *testing.T) []*data.Batch {
	t.Helper()
	bs, err := fixture.Batches(filepath.Join(evaFixtures, "batches.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// reference is what PEFT produced for one scenario and mode.
type reference struct {
	FinalRanks    map[string]int `json:"final_ranks"`
	ForwardPasses struct {
		SVD int `json:"svd"`
	} `json:"forward_passes"`
	Modules []string `json:"modules"`
	a       map[string][]float64
}

func loadRef(t *testing.T, name string, whiten bool) *reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(evaFixtures, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(filepath.Join(evaFixtures, name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r.a = map[string][]float64{}
	key := "A."
	if whiten {
		key = "A_whiten_once." // the intended per-layer whitening, not PEFT's aliasing bug
	}
	for _, m := range r.Modules {
		raw, ok := f.Bytes(key + m)
		if !ok {
			t.Fatalf("%s: no %s%s", name, key, m)
		}
		v := make([]float64, len(raw)/8)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		r.a[m] = v
	}
	return &r
}

// calibrate runs eva's whole calibration (Go forward passes + Go EVA) for a scenario.
func calibrate(t *testing.T, sc scenario, mode eva.SVDMode) (*eva.State, *models.Checkpoint) {
	t.Helper()
	be := cpu.New()
	ck, err := models.Open(modelFixtures, be)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := lora.SelectTargets(ck.Model.Linears(), targetSpec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := eva.DefaultConfig()
	cfg.R, cfg.Alpha, cfg.Rho, cfg.Tau, cfg.Whiten, cfg.AdjustScaling, cfg.SVD = sc.r, sc.alpha, sc.rho, sc.tau, sc.whiten, sc.adjust, mode
	st, err := Run(be, ck.Model, fixtureBatches(t), targets, cfg, Options{UseLabelMask: sc.labelMask})
	if err != nil {
		t.Fatal(err)
	}
	return st, ck
}

// rowCos is the cosine between row i of two [rank, d] matrices.
func rowCos(a, b []float64, i, d int) float64 {
	var ab, aa, bb float64
	for j := 0; j < d; j++ {
		x, y := a[i*d+j], b[i*d+j]
		ab, aa, bb = ab+x*y, aa+x*x, bb+y*y
	}
	return ab / math.Sqrt(aa*bb)
}

// TestMatchesPEFTExact runs eva end to end (Go model, Go EVA, exact SVD) and compares it with PEFT
// in exact mode: the same number of forward passes, the same final ranks, A rows with cosine
// ≥ 0.9999 (signed: the sign convention must match too) and PEFT's per-layer alphas.
func TestMatchesPEFTExact(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref := loadRef(t, sc.name+"-exact", sc.whiten)
			st, _ := calibrate(t, sc, eva.Exact)
			if st.Batches != ref.ForwardPasses.SVD {
				t.Errorf("%d forward passes, PEFT %d", st.Batches, ref.ForwardPasses.SVD)
			}
			worst := 1.0
			for _, l := range st.Layers {
				want := ref.FinalRanks[l.Name]
				if l.Rank != want {
					t.Errorf("%s: rank %d, PEFT %d", l.Name, l.Rank, want)
					continue
				}
				for i := 0; i < l.Rank; i++ {
					worst = math.Min(worst, rowCos(l.A, ref.a[l.Name], i, l.In))
				}
				if sc.whiten {
					// whitened rows have norm 1/√σ: compare magnitudes as well as directions
					for i := 0; i < l.Rank*l.In; i++ {
						if d := math.Abs(l.A[i] - ref.a[l.Name][i]); d > 1e-4*math.Abs(ref.a[l.Name][i])+1e-7 {
							t.Errorf("%s: whitened A[%d] = %g, PEFT %g", l.Name, i, l.A[i], ref.a[l.Name][i])
							break
						}
					}
				}
			}
			if worst < 0.9999 {
				t.Errorf("worst A row cosine %.6f < 0.9999", worst)
			}
			t.Logf("%d forwards; worst A row cosine with PEFT %.9f", st.Batches, worst)
		})
	}
}

// TestMatchesPEFTRandomized compares the default randomized mode with stock PEFT (whose random
// sketch differs): ranks equal on most layers, leading components with |cos| ≥ 0.99.
func TestMatchesPEFTRandomized(t *testing.T) {
	sc := scenarios[0]
	ref := loadRef(t, sc.name+"-randomized", false)
	st, _ := calibrate(t, sc, eva.Randomized)
	same := 0
	for _, l := range st.Layers {
		if l.Rank == ref.FinalRanks[l.Name] {
			same++
		}
		if l.Rank > 0 && ref.FinalRanks[l.Name] > 0 {
			if c := math.Abs(rowCos(l.A, ref.a[l.Name], 0, l.In)); c < 0.99 {
				t.Errorf("%s: leading component |cos| %.4f < 0.99", l.Name, c)
			}
		}
	}
	if same < len(st.Layers)-2 {
		t.Errorf("ranks equal on %d of %d layers", same, len(st.Layers))
	}
}

// TestAdapterConfigMatchesPEFT writes the default scenario's adapter and compares the fields PEFT
// reads with the adapter_config.json PEFT itself saved, and the tensor names and shapes.
func TestAdapterConfigMatchesPEFT(t *testing.T) {
	st, ck := calibrate(t, scenarios[0], eva.Exact)
	cfg, layers, err := peft.FromEVA(st, ck.Model.Linears(), "testdata/models/llama")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "adapter")
	if err := peft.Save(dir, cfg, layers); err != nil {
		t.Fatal(err)
	}
	read := func(path string) map[string]any {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	got := read(filepath.Join(dir, peft.ConfigFile))
	want := read(filepath.Join(evaFixtures, "default-exact.adapter_config.json"))
	for _, k := range []string{"alpha_pattern", "rank_pattern", "r", "lora_alpha", "eva_config", "init_lora_weights",
		"target_modules", "peft_type", "task_type", "fan_in_fan_out", "use_rslora", "use_dora", "bias", "lora_dropout"} {
		g, _ := json.Marshal(got[k])
		w, _ := json.Marshal(want[k])
		if string(g) != string(w) {
			t.Errorf("%s: eva %s, PEFT %s", k, g, w)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, peft.ConfigFile))
	if !strings.Contains(string(raw), `"model.layers.0.mlp.down_proj": 12.0`) {
		t.Errorf("alpha_pattern values are not written as floats like PEFT's:\n%s", raw)
	}
	f, err := safetensors.Open(filepath.Join(dir, peft.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range layers {
		a, _ := f.Info("base_model.model." + l.Module + ".lora_A.weight")
		b, _ := f.Info("base_model.model." + l.Module + ".lora_B.weight")
		if a.DType != safetensors.Float32 || len(a.Shape) != 2 || a.Shape[0] != l.Rank || a.Shape[1] != l.In ||
			len(b.Shape) != 2 || b.Shape[0] != l.Out || b.Shape[1] != l.Rank {
			t.Errorf("%s: lora_A %v %v, lora_B %v", l.Module, a.DType, a.Shape, b.Shape)
		}
	}
	if n := len(f.Names()); n != 2*len(layers) {
		t.Errorf("%d tensors for %d layers", n, len(layers))
	}
}

// TestConsistentAcrossShuffles is PEFT's test_eva_initialization_consistency on our model: three
// calibrations over differently shuffled batches give similar components (mean over layers and
// leading rows of |cos(|A1[i]|, |A2[i]|)| > 0.75 for every pair).
func TestConsistentAcrossShuffles(t *testing.T) {
	be := cpu.New()
	ck, err := models.Open(modelFixtures, be)
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := lora.SelectTargets(ck.Model.Linears(), targetSpec)
	cfg := eva.DefaultConfig()
	cfg.Tau = 0.9
	var states []*eva.State
	for seed := uint64(1); seed <= 3; seed++ {
		st, err := Run(be, ck.Model, fixtureBatches(t), targets, cfg, Options{UseLabelMask: true, Shuffle: true, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, st)
	}
	abs := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = math.Abs(x)
		}
		return out
	}
	for i := 0; i < 3; i++ {
		for j := i + 1; j < 3; j++ {
			sum, n := 0.0, 0
			for l := range states[i].Layers {
				a, b := states[i].Layers[l], states[j].Layers[l]
				for row := 0; row < min(a.Rank, b.Rank); row++ {
					sum += math.Abs(rowCos(abs(a.A), abs(b.A), row, a.In))
					n++
				}
			}
			if mean := sum / float64(n); mean <= 0.75 {
				t.Errorf("shuffles %d and %d: mean |cos| %.3f ≤ 0.75", i+1, j+1, mean)
			} else {
				t.Logf("shuffles %d and %d: mean |cos| %.3f", i+1, j+1, mean)
			}
		}
	}
}
