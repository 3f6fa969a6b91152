package train

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/peft"
)

func logitsOf(t *testing.T, ck *models.Checkpoint, b *data.Batch) []float32 {
	t.Helper()
	be := ck.Model.Linears()[0].W.Backend()
	l, err := ck.Model.Forward(model.Context(be, b), b)
	if err != nil {
		t.Fatal(err)
	}
	return be.ToHost(l)
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		d = max(d, x, -x)
	}
	return d
}

// TestInitialiseEveryMethod initialises every method on the tiny Llama and checks, end to end:
//   - the model's output at step 0 is unchanged for every method whose defining property says so
//     (B = 0, or an offset base weight W − s·B·A), and changed for LoRA-One and LoRA-DA, which start
//     one (scaled) gradient step away;
//   - after a simulated training step (B perturbed), the adapter Write produces, loaded onto a fresh
//     copy of the ORIGINAL base model, gives the same logits as the trained model (offset methods are
//     rewritten as rank-2r adapters);
//   - SaveInitial + Reattach rebuild the same base weights bit for bit.
func TestInitialiseEveryMethod(t *testing.T) {
	batches := fixtureBatches(3)
	for _, name := range []string{"kaiming", "gaussian", "orthonormal", "eva", "pissa", "pissa_niter_2", "milora", "olora",
		"corda", "corda-kpm", "lora-ga", "lora-one", "lora-da", "ailora", "kaiming+dora", "eva+dora"} {
		t.Run(name, func(t *testing.T) {
			name, dora := strings.CutSuffix(name, "+dora")
			be := cpu.New()
			ck, err := models.Open("../testdata/models/llama", be)
			if err != nil {
				t.Fatal(err)
			}
			base := logitsOf(t, ck, batches[0])
			m, err := inits.Parse(name)
			if err != nil {
				t.Fatal(err)
			}
			targets := []string{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.mlp.down_proj"}
			ecfg := eva.DefaultConfig()
			ecfg.Rho = 1
			a, err := Initialise(be, ck.Model, InitSpec{Method: m, Targets: targets, R: 2, Alpha: 4, Seed: 3, DoRA: dora,
				EVA: ecfg, Calibration: batches, Population: 100})
			if err != nil {
				t.Fatal(err)
			}
			d := maxAbsDiff(logitsOf(t, ck, batches[0]), base)
			changes := name == "lora-one" || name == "lora-da"
			if changes && d < 1e-6 {
				t.Errorf("%s should start away from the base model, logits moved by %g", name, d)
			}
			if !changes && d > 2e-4 {
				t.Errorf("%s changed the step-0 logits by %g", name, d)
			}
			dir := t.TempDir()
			if err := a.SaveInitial(filepath.Join(dir, "init")); err != nil {
				t.Fatal(err)
			}
			for _, ad := range a.List { // a training step's worth of change
				if dora != (ad.Magnitude != nil) {
					t.Fatalf("DoRA %v but magnitude %v", dora, ad.Magnitude)
				}
				b := be.ToHost(ad.B)
				for i := range b {
					b[i] += 0.05 * float32(i%7-3)
				}
				be.Copy(ad.B, be.FromHost(b, ad.B.Shape()...))
			}
			trained := logitsOf(t, ck, batches[0])
			if err := a.Write(be, dir); err != nil {
				t.Fatal(err)
			}
			fresh, _ := models.Open("../testdata/models/llama", be)
			c, layers, err := peft.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := peft.Attach(be, fresh.Model.Linears(), c, layers); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(logitsOf(t, fresh, batches[0]), trained); d > 2e-4 {
				t.Errorf("the written adapter on the original base differs from the trained model by %g", d)
			}
			again, _ := models.Open("../testdata/models/llama", be)
			if _, err := Reattach(be, again.Model, filepath.Join(dir, "init")); err != nil {
				t.Fatal(err)
			}
			for i, l := range ck.Model.Linears() {
				if !slices.Equal(be.ToHost(l.W), be.ToHost(again.Model.Linears()[i].W)) {
					t.Fatalf("Reattach gives another base weight for %s", l.Name)
				}
			}
		})
	}
}

// TestInitialiseSideBySide: the layers factorised side by side (one OpenBLAS thread each) give
// the same initial adapters whatever the number of workers, bit for bit, and the same as one layer
// after another on every core up to rounding; q/k/v share one covariance matrix, so CorDA's
// memoised inverse is derived under concurrent demand.
func TestInitialiseSideBySide(t *testing.T) {
	batches := fixtureBatches(5)
	targets := []string{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj",
		"model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj", "model.layers.1.mlp.down_proj"}
	defer func(m int64, p int) { initParallelMemory = m; runtime.GOMAXPROCS(p) }(initParallelMemory, runtime.GOMAXPROCS(0))
	for _, name := range []string{"pissa", "corda", "lora-ga", "lora-da"} {
		t.Run(name, func(t *testing.T) {
			m, err := inits.Parse(name)
			if err != nil {
				t.Fatal(err)
			}
			run := func(memory int64, procs int) []peft.Layer {
				initParallelMemory = memory
				runtime.GOMAXPROCS(procs)
				be := cpu.New()
				ck, err := models.Open("../testdata/models/llama", be)
				if err != nil {
					t.Fatal(err)
				}
				a, err := Initialise(be, ck.Model, InitSpec{Method: m, Targets: targets, R: 2, Alpha: 4, Seed: 3,
					Calibration: batches, Population: 100})
				if err != nil {
					t.Fatal(err)
				}
				return a.Initial
			}
			two, four, serial := run(1<<40, 2), run(1<<40, 4), run(1, 2)
			for i, l := range two {
				if !slices.Equal(l.A, four[i].A) || !slices.Equal(l.B, four[i].B) {
					t.Errorf("%s: 2 and 4 workers differ", l.Module)
				}
				if d := max(maxAbsDiff(l.A, serial[i].A), maxAbsDiff(l.B, serial[i].B)); d > 1e-5 {
					t.Errorf("%s: side by side and one after another differ by %g", l.Module, d)
				}
			}
		})
	}
}

// TestInitialisePatterns: rank and alpha patterns reach the adapters and the written PEFT config.
func TestInitialisePatterns(t *testing.T) {
	be := cpu.New()
	ck, err := models.Open("../testdata/models/llama", be)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := inits.Parse("pissa")
	targets := []string{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"}
	a, err := Initialise(be, ck.Model, InitSpec{Method: m, Targets: targets, R: 2, Alpha: 4,
		RankPattern: map[string]int{"v_proj": 3}, AlphaPattern: map[string]float64{`layers\.0\.self_attn\.q_proj`: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if a.List[0].Rank != 2 || a.List[0].Alpha != 7 || a.List[1].Rank != 3 || a.List[1].Alpha != 4 {
		t.Fatalf("ranks/alphas %d/%v and %d/%v", a.List[0].Rank, a.List[0].Alpha, a.List[1].Rank, a.List[1].Alpha)
	}
	dir := t.TempDir()
	if err := a.Write(be, dir); err != nil {
		t.Fatal(err)
	}
	c, layers, err := peft.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// PiSSA offsets the base: the written adapter has rank 2r per layer.
	if c.R != 4 || layers[1].Rank != 6 || layers[0].Alpha != 14 {
		t.Errorf("written r %d, v_proj rank %d, q_proj alpha %v", c.R, layers[1].Rank, layers[0].Alpha)
	}
	if _, err := Initialise(be, ck.Model, InitSpec{Method: m, Targets: targets, R: 2, Alpha: 4,
		RankPattern: map[string]int{"(": 3}}); err == nil {
		t.Error("a rank pattern that is not a regular expression was accepted")
	}
}
