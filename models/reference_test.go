package models

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/internal/fixture"
	"github.com/eva-lora/eva/model"
)

// The fixtures in testdata/models were made by transformers (scripts/make_model_fixtures.py): tiny
// random checkpoints with the logits, loss and every parameter gradient PyTorch computed for a
// right-padded batch of three sequences.
const fixtures = "../testdata/models"

type reference struct {
	batch  *data.Batch
	logits []float32
	loss   float64
	set    *safetensors.Set
}

func loadReference(t *testing.T, dir string) *reference {
	t.Helper()
	set, err := safetensors.OpenDir(filepath.Join(fixtures, dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	get := func(name string) []float32 {
		v, err := set.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	b, err := fixture.Batch(filepath.Join(fixtures, dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return &reference{batch: b, logits: get("logits"), loss: float64(get("loss")[0]), set: set}
}

// realPositions keeps the rows of logits [B·S, V] at the batch's non-padding positions.
func realPositions(logits []float32, b *data.Batch, V int) []float32 {
	var out []float32
	for i := range b.B {
		for j := range int(b.Lengths[i]) {
			out = append(out, logits[(i*b.S+j)*V:(i*b.S+j+1)*V]...)
		}
	}
	return out
}

// relErr is max|a − b| / max|b|.
func relErr(a, b []float32) float64 {
	var diff, scale float64
	for i := range a {
		diff = math.Max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = math.Max(scale, math.Abs(float64(b[i])))
	}
	return diff / scale
}

func transpose(v []float32, rows, cols int) []float32 {
	out := make([]float32, len(v))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			out[j*rows+i] = v[i*cols+j]
		}
	}
	return out
}

func TestMatchesTransformers(t *testing.T) {
	for _, dir := range []string{"llama", "qwen2", "gpt2", "mistral"} {
		t.Run(dir, func(t *testing.T) {
			be := cpu.New()
			ck, err := Open(filepath.Join(fixtures, dir), be)
			if err != nil {
				t.Fatal(err)
			}
			ref := loadReference(t, dir)
			ck.Model.RequestGrads()
			// Three times: the second step reuses every activation and gradient buffer of the first
			// and must give the same result from freshly zeroed parameter gradients; the third asks
			// for the logits of the labelled rows only (training's path) and must give the same
			// loss and gradients.
			for step := 0; step < 3; step++ {
				for _, p := range ck.Model.Params() {
					be.Fill(p.Grad, 0)
				}
				ctx, targets := model.Context(be, ref.batch), ref.batch.Targets()
				full := targets
				if step == 2 {
					if targets = model.SelectLabelled(ctx, targets); ctx.LogitRows == nil {
						t.Fatal("the reference batch has no unlabelled row")
					}
				}
				logits, err := ck.Model.Forward(ctx, ref.batch)
				if err != nil {
					t.Fatal(err)
				}
				got, want := be.ToHost(logits), ref.logits
				if rows := ctx.LogitRows; rows != nil {
					V := ck.Config.VocabSize
					want = nil
					for k, r := range rows {
						want = append(want, ref.logits[int(r)*V:int(r+1)*V]...)
						if targets[k] != full[r] {
							t.Fatalf("selected target %d is %d, row %d's is %d", k, targets[k], r, full[r])
						}
					}
				} else if ck.Config.SlidingWindow > 0 {
					// A padding query past its row's window sees no key: eva gives it zero attention,
					// transformers a uniform average over masked keys. Only real positions count.
					got, want = realPositions(got, ref.batch, ck.Config.VocabSize), realPositions(want, ref.batch, ck.Config.VocabSize)
				}
				e := relErr(got, want)
				if e > 1e-5 {
					t.Errorf("step %d logits: relative error %.3g > 1e-5", step, e)
				}
				t.Logf("logits: relative error %.2g", e)
				loss := model.CrossEntropy(be, logits, targets)
				if d := math.Abs(loss.Mean() - ref.loss); d > 1e-5*ref.loss {
					t.Errorf("loss %.7f, transformers %.7f", loss.Mean(), ref.loss)
				}
				fused, dlogits := model.LossGrad(be, logits, targets)
				if fused.Tokens != loss.Tokens || math.Abs(fused.Mean()-loss.Mean()) > 1e-6*loss.Mean() {
					t.Errorf("fused loss %v, separate %v", fused, loss)
				}
				ck.Model.Backward(ctx, dlogits)
				checked, worst := 0, 0.0
				for _, p := range ck.Model.Params() {
					want, err := ref.set.Float32("grad." + p.Name)
					if err != nil {
						t.Errorf("%s: no reference gradient: %v", p.Name, err)
						continue
					}
					got := be.ToHost(p.Grad)
					if p.Transposed {
						got = transpose(got, p.Value.Dim(0), p.Value.Dim(1))
					}
					e := relErr(got, want)
					if e > 2e-5 {
						t.Errorf("step %d grad %s: relative error %.3g > 2e-5", step, p.Name, e)
					}
					worst = math.Max(worst, e)
					checked++
				}
				grads := 0
				for _, n := range ref.set.Names() {
					if strings.HasPrefix(n, "grad.") {
						grads++
					}
				}
				t.Logf("%d parameter gradients: worst relative error %.2g", checked, worst)
				if checked != grads {
					t.Errorf("checked %d gradients, transformers gave %d", checked, grads)
				}
			}
		})
	}
}

func TestShardedCheckpointGivesSameLogits(t *testing.T) {
	be := cpu.New()
	ck, err := Open(filepath.Join(fixtures, "llama-sharded"), be)
	if err != nil {
		t.Fatal(err)
	}
	ref := loadReference(t, "llama")
	logits, err := ck.Model.Forward(model.Context(be, ref.batch), ref.batch)
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(be.ToHost(logits), ref.logits); e > 1e-5 {
		t.Errorf("sharded logits: relative error %.3g", e)
	}
}
