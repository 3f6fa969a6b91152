package peft

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/internal/fixture"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/tensor"
)

// loraFixtures holds adapters with random non-zero A, B (and DoRA magnitudes) on the tiny Llama, with
// PEFT's loss, logits, gradients and merged logits for one padded batch (scripts/make_lora_reference.py).
const loraFixtures = "../testdata/lora"

func relErr(got, want []float32) float64 {
	num, den := 0.0, 0.0
	for i := range want {
		num = max(num, math.Abs(float64(got[i])-float64(want[i])))
		den = max(den, math.Abs(float64(want[i])))
	}
	return num / den
}

// fixtureBatch reads the padded batch stored in a reference file.
func fixtureBatch(t *testing.T, path string) *data.Batch {
	t.Helper()
	b, err := fixture.Batch(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTrainingMatchesPEFT loads each PEFT adapter (plain, rsLoRA, DoRA, with rank and alpha
// patterns), runs eva's training forward and backward on PEFT's batch and compares the loss, the
// logits and the gradient of every lora_A, lora_B and lora_magnitude_vector with PEFT's; then merges
// the adapter into the weights and compares the logits with PEFT's merge_and_unload.
func TestTrainingMatchesPEFT(t *testing.T) {
	for _, variant := range []string{"plain", "rslora", "dora"} {
		t.Run(variant, func(t *testing.T) {
			be := cpu.New()
			ck, err := models.Open("../testdata/models/llama", be)
			if err != nil {
				t.Fatal(err)
			}
			c, layers, err := Load(filepath.Join(loraFixtures, variant, "adapter"))
			if err != nil {
				t.Fatal(err)
			}
			ads, err := Attach(be, ck.Model.Linears(), c, layers)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := safetensors.Open(filepath.Join(loraFixtures, variant, "reference.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			get := func(name string) []float32 {
				v, err := ref.Float32(name)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			for _, a := range ads {
				a.RequestGrads(be)
			}
			b := fixtureBatch(t, filepath.Join(loraFixtures, variant, "reference.safetensors"))
			ctx := model.Context(be, b)
			ctx.Training = true
			logits, err := ck.Model.Forward(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(be.ToHost(logits), get("logits")); e > 2e-5 {
				t.Errorf("logits relative error %.2g", e)
			}
			loss, dlogits := model.LossGrad(be, logits, b.Targets())
			if d := math.Abs(loss.Mean() - float64(get("loss")[0])); d > 1e-5 {
				t.Errorf("loss %.7f, PEFT %.7f", loss.Mean(), get("loss")[0])
			}
			ck.Model.Backward(ctx, dlogits)
			worst := 0.0
			n := 0
			for _, a := range ads {
				name := prefix + a.Layer().Name
				pairs := [][2]any{{name + ".lora_A.weight", a.GradA}, {name + ".lora_B.weight", a.GradB}}
				if a.Magnitude != nil {
					pairs = append(pairs, [2]any{name + magnitudeSuffix, a.GradMagnitude})
				}
				for _, p := range pairs {
					e := relErr(be.ToHost(p[1].(*tensor.Tensor)), get("grad."+p[0].(string)))
					worst = max(worst, e)
					n++
					if e > 1e-4 {
						t.Errorf("%s: gradient relative error %.2g", p[0], e)
					}
				}
			}
			t.Logf("%d gradients, worst relative error %.2g", n, worst)
			for _, a := range ads {
				a.Merge(be)
			}
			merged, err := ck.Model.Forward(model.Context(be, b), b)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(be.ToHost(merged), get("merged_logits")); e > 2e-5 {
				t.Errorf("merged logits relative error %.2g", e)
			}
		})
	}
}

// TestTrainedAdaptersMatchPEFT loads adapters that eva train wrote (EVA with rsLoRA, DoRA, and the
// offset methods PiSSA and LoRA-GA rewritten for the original base) and checks that eva computes the
// logits PEFT computes with the same files, with the adapter attached and after merging.
func TestTrainedAdaptersMatchPEFT(t *testing.T) {
	b := fixtureBatch(t, filepath.Join(loraFixtures, "plain", "reference.safetensors"))
	for _, name := range []string{"eva", "dora", "pissa", "lora-ga"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(loraFixtures, "trained", name)
			be := cpu.New()
			ck, err := models.Open("../testdata/models/llama", be)
			if err != nil {
				t.Fatal(err)
			}
			c, layers, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			ads, err := Attach(be, ck.Model.Linears(), c, layers)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := safetensors.Open(filepath.Join(dir, "peft_logits.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			for _, merged := range []bool{false, true} {
				if merged {
					for _, a := range ads {
						a.Merge(be)
					}
				}
				logits, err := ck.Model.Forward(model.Context(be, b), b)
				if err != nil {
					t.Fatal(err)
				}
				key := map[bool]string{false: "logits", true: "merged_logits"}[merged]
				want, err := ref.Float32(key)
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(be.ToHost(logits), want); e > 2e-5 {
					t.Errorf("%s: relative error %.2g against PEFT", key, e)
				}
			}
		})
	}
}
