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
	name  string
	x, dy [][]float32
}

func (r *rowRecorder) Observe(ctx *nn.Context, name string, x *tensor.Tensor) {
	if name == r.name {
		r.x = appendRows(r.x, ctx, x)
	}
}

func (r *rowRecorder) ObserveGrad(ctx *nn.Context, name string, dy *tensor.Tensor) {
	if name == r.name {
		r.dy = appendRows(r.dy, ctx, dy)
	}
}

// appendRows appends the non-padding rows of t to rows.
func appendRows(rows [][]float32, ctx *nn.Context, t *tensor.Tensor) [][]float32 {
	h, d := ctx.Backend.ToHost(t), t.Dim(1)
	for i := 0; i < t.Dim(0); i++ {
		if ctx.Rows[i] {
			rows = append(rows, h[i*d:(i+1)*d])
		}
	}
	return rows
}

// openFixture loads the tiny Llama fixture and its reference batch.
func openFixture(t *testing.T) (tensor.Backend, model.Model, *data.Batch) {
	t.Helper()
	be := cpu.New()
	ck, err := models.Open("../testdata/models/llama", be)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fixture.Batch("../testdata/models/llama/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return be, ck.Model, b
}

// record runs one forward and backward pass of b with the head on every row and returns the
// non-padding input and output-gradient rows that the named layer saw.
func record(t *testing.T, be tensor.Backend, m model.Model, b *data.Batch, name string) *rowRecorder {
	t.Helper()
	rec := &rowRecorder{name: name}
	for _, l := range m.Linears() {
		if l.Name == name {
			l.Capture = rec
			defer func() { l.Capture = nil }()
		}
	}
	ctx := model.Context(be, b)
	logits, err := m.Forward(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	_, dl := model.LossGrad(be, logits, b.Targets())
	m.Backward(ctx, dl)
	if len(rec.x) == 0 || len(rec.dy) != len(rec.x) {
		t.Fatalf("%s: recorder saw %d input and %d gradient rows", name, len(rec.x), len(rec.dy))
	}
	return rec
}

// TestCollectMatchesReference checks the statistics against independent computations: the averaged
// weight gradient of the fixture batch equals the gradient transformers computed for it, and the
// input second moment and output-gradient squares equal (1/T)·Σ x·xᵀ and (1/T)·Σ dy² over rows
// recorded by a separate hook in a pass with the head on every row (Collect runs it on the labelled
// rows only), for a layer and for the layers that share its input.
func TestCollectMatchesReference(t *testing.T) {
	be, m, b := openFixture(t)
	ref, err := safetensors.Open("../testdata/models/llama/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	q, k := "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj"
	st, err := Collect(be, m, []*data.Batch{b}, []string{q, k, "model.layers.0.mlp.down_proj"},
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
	for _, l := range m.Linears() {
		if l.GradW != nil || l.Capture != nil {
			t.Fatalf("%s keeps a gradient or hook after Collect", l.Name)
		}
	}

	rec := record(t, be, m, b, q)
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

// TestCollectObservesTheHeadOnEveryRow: with lm_head among the layers, Collect runs the head on
// every row, so the head's statistics average over every non-padding token (not only the labelled
// ones), and a block layer's statistics are the same as without the head.
func TestCollectObservesTheHeadOnEveryRow(t *testing.T) {
	be, m, b := openFixture(t)
	q := "model.layers.1.self_attn.q_proj"
	opt := StatsOptions{Cov: true, Grad: true, OutGradSq: true}
	alone, err := Collect(be, m, []*data.Batch{b}, []string{q}, opt)
	if err != nil {
		t.Fatal(err)
	}
	both, err := Collect(be, m, []*data.Batch{b}, []string{q, "lm_head"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2][]float64{
		"cov":  {alone.Cov[q].Data, both.Cov[q].Data},
		"grad": {alone.Grad[q].Data, both.Grad[q].Data},
		"dy²":  {alone.OutGradSq[q], both.OutGradSq[q]},
	} {
		for i := range pair[0] {
			if d := math.Abs(pair[0][i] - pair[1][i]); d > 1e-5*max(math.Abs(pair[0][i]), 1e-3) {
				t.Fatalf("%s of %s [%d]: %g alone, %g with lm_head", name, q, i, pair[0][i], pair[1][i])
			}
		}
	}
	nonPadding := 0
	for _, n := range b.Lengths {
		nonPadding += int(n)
	}
	labelled := model.CountTargets(b.Targets())
	if labelled == nonPadding {
		t.Fatalf("fixture batch labels all %d tokens; the test needs unlabelled ones", nonPadding)
	}
	// dy of the head is zero at unlabelled rows, so its mean square over every non-padding row is
	// the mean over the labelled ones scaled by labelled/nonPadding.
	rec := record(t, be, m, b, "lm_head")
	if len(rec.x) != nonPadding {
		t.Fatalf("recorder saw %d head rows, want %d", len(rec.x), nonPadding)
	}
	for j, got := range both.OutGradSq["lm_head"] {
		s := 0.0
		for _, row := range rec.dy {
			s += float64(row[j]) * float64(row[j])
		}
		if w := s / float64(nonPadding); math.Abs(got-w) > 1e-6*max(w, 1e-12) {
			t.Fatalf("lm_head output gradient square %d: %g, want %g (mean over %d non-padding rows)", j, got, w, nonPadding)
		}
	}
}
