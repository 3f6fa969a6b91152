package calib

import (
	"math"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/internal/fixture"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// rowRecorder keeps every non-padding input row and output gradient row of one layer.
type rowRecorder struct {
	name   string
	x, dy  [][]float32
	batchN int
}

func (r *rowRecorder) Observe(ctx *nn.Context, name string, x *tensor.Tensor) {
	if name != r.name {
		return
	}
	h, d := ctx.Backend.ToHost(x), x.Dim(1)
	for i := 0; i < x.Dim(0); i++ {
		if ctx.Rows[i] {
			r.x = append(r.x, h[i*d:(i+1)*d])
		}
	}
}

// TestCollectMatchesReference checks the statistics against independent computations: the averaged
// weight gradient of the fixture batch equals the gradient transformers computed for it, and the
// input second moment equals (1/T)·Σ x·xᵀ over rows recorded by a separate hook, for a layer and for
// the layers that share its input.
func TestCollectMatchesReference(t *testing.T) {
	be := cpu.New()
	ck, err := models.Open("../testdata/models/llama", be)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.Open("../testdata/models/llama/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	b, err := fixture.Batch("../testdata/models/llama/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	q, k := "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj"
	st, err := Collect(be, ck.Model, []*data.Batch{b}, []string{q, k, "model.layers.0.mlp.down_proj"},
		StatsOptions{Cov: true, Grad: true, OutGradSq: true})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref.Float32("grad." + q + ".weight")
	worst, scale := 0.0, 0.0
	for i, w := range want {
		worst = max(worst, math.Abs(st.Grad[q].Data[i]-float64(w)))
		scale = max(scale, math.Abs(float64(w)))
	}
	if worst/scale > 1e-5 {
		t.Errorf("gradient of %s: relative error %.2g against transformers", q, worst/scale)
	}
	for _, l := range ck.Model.Linears() {
		if l.GradW != nil || l.Capture != nil {
			t.Fatalf("%s keeps a gradient or hook after Collect", l.Name)
		}
	}

	rec := &rowRecorder{name: q}
	for _, l := range ck.Model.Linears() {
		if l.Name == q {
			l.Capture = rec
			ctx := model.Context(be, b)
			logits, err := ck.Model.Forward(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			_, dl := model.LossGrad(be, logits, b.Targets())
			ck.Model.Backward(ctx, dl)
			l.Capture = nil
		}
	}
	d := len(rec.x[0])
	for _, name := range []string{q, k} {
		cov := st.Cov[name]
		err := 0.0
		for i := range d {
			for j := range d {
				s := 0.0
				for _, row := range rec.x {
					s += float64(row[i]) * float64(row[j])
				}
				err = max(err, math.Abs(cov.At(i, j)-s/float64(len(rec.x))))
			}
		}
		if err > 1e-5 {
			t.Errorf("second moment of %s differs by %.2g", name, err)
		}
	}
	if st.Cov[q] != st.Cov[k] {
		t.Error("q_proj and k_proj share their input but not their second moment")
	}
	for j, got := range st.OutGradSq[q] {
		s := 0.0
		for _, row := range rec.dy {
			s += float64(row[j]) * float64(row[j])
		}
		if w := s / float64(len(rec.dy)); math.Abs(got-w) > 1e-6*max(w, 1e-12) {
			t.Fatalf("output gradient square %d of %s: %g, want %g", j, q, got, w)
		}
	}
}
