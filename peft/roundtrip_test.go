package peft_test

import (
	"github.com/eva-lora/eva/internal/fixture"

	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/calib"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/peft"
)

// The round trip with PEFT: eva writes an EVA adapter (B = 0) and a copy with a seeded random B into
// testdata/peft (regenerate with EVA_UPDATE_FIXTURES=1); scripts/check_peft_adapter.py, run on a
// machine with peft, loads both with PeftModel.from_pretrained and stores PEFT's logits in
// testdata/peft/reference.safetensors, which this test compares with eva's.
const (
	peftFixtures = "../testdata/peft"
	llamaDir     = "../testdata/models/llama"
)

// batch0 is the first calibration batch of testdata/eva.
func batch0(t *testing.T) *data.Batch {
	bs, err := fixture.Batches("../testdata/eva/batches.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return bs[0]
}

func TestWriteRoundTripFixtures(t *testing.T) {
	if os.Getenv("EVA_UPDATE_FIXTURES") == "" {
		t.Skip("set EVA_UPDATE_FIXTURES=1 to regenerate testdata/peft")
	}
	be := cpu.New()
	ck, err := models.Open(llamaDir, be)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := lora.SelectTargets(ck.Model.Linears(), "all-linear")
	if err != nil {
		t.Fatal(err)
	}
	cfg := eva.DefaultConfig()
	cfg.Alpha = 16
	st, err := calib.Run(be, ck.Model, []*data.Batch{batch0(t)}, targets, cfg, calib.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, layers, err := peft.FromEVA(st, ck.Model.Linears(), "testdata/models/llama")
	if err != nil {
		t.Fatal(err)
	}
	if err := peft.Save(filepath.Join(peftFixtures, "eva-init"), c, layers); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range layers {
		for j := range layers[i].B {
			layers[i].B[j] = float32(rng.NormFloat64() * 0.05)
		}
	}
	if err := peft.Save(filepath.Join(peftFixtures, "eva-random-b"), c, layers); err != nil {
		t.Fatal(err)
	}
}

// logitsWith runs batch 0 through the llama fixture with the adapter in dir ("" = none).
func logitsWith(t *testing.T, dir string) []float32 {
	t.Helper()
	be := cpu.New()
	ck, err := models.Open(llamaDir, be)
	if err != nil {
		t.Fatal(err)
	}
	if dir != "" {
		c, layers, err := peft.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := peft.Attach(be, ck.Model.Linears(), c, layers); err != nil {
			t.Fatal(err)
		}
	}
	b := batch0(t)
	logits, err := ck.Model.Forward(model.Context(be, b), b)
	if err != nil {
		t.Fatal(err)
	}
	return be.ToHost(logits)
}

func TestEVAAdapterLeavesOutputsUnchanged(t *testing.T) {
	base, adapted := logitsWith(t, ""), logitsWith(t, filepath.Join(peftFixtures, "eva-init"))
	for i := range base {
		if base[i] != adapted[i] {
			t.Fatalf("logit %d: %v with the EVA adapter, %v without (B = 0 must change nothing)", i, adapted[i], base[i])
		}
	}
}

func TestRandomBMatchesPEFT(t *testing.T) {
	ref, err := safetensors.Open(filepath.Join(peftFixtures, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for _, c := range []struct{ dir, tensor string }{{"", "logits.base"}, {"eva-init", "logits.eva-init"}, {"eva-random-b", "logits.eva-random-b"}} {
		want, err := ref.Float32(c.tensor)
		if err != nil {
			t.Fatal(err)
		}
		dir := ""
		if c.dir != "" {
			dir = filepath.Join(peftFixtures, c.dir)
		}
		got := logitsWith(t, dir)
		var diff, scale float64
		for i := range want {
			diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
			scale = math.Max(scale, math.Abs(float64(want[i])))
		}
		if diff/scale > 1e-5 {
			t.Errorf("%s: eva's logits differ from PEFT's by %.3g (relative)", c.tensor, diff/scale)
		}
	}
}
