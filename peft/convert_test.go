package peft

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randLayer(rng *rand.Rand, module string, r, in, out int, alpha float64) Layer {
	l := Layer{Module: module, Rank: r, In: in, Out: out, Alpha: alpha, A: make([]float32, r*in), B: make([]float32, out*r)}
	for i := range l.A {
		l.A[i] = float32(rng.NormFloat64())
	}
	for i := range l.B {
		l.B[i] = float32(rng.NormFloat64())
	}
	return l
}

// delta returns scale·B·A [out, in] in float64.
func delta(l Layer, scale float64) []float64 {
	d := make([]float64, l.Out*l.In)
	for o := range l.Out {
		for i := range l.In {
			for k := range l.Rank {
				d[o*l.In+i] += scale * float64(l.B[o*l.Rank+k]) * float64(l.A[k*l.In+i])
			}
		}
	}
	return d
}

func scaleOf(alpha float64, r int, rslora bool) float64 {
	if rslora {
		return alpha / math.Sqrt(float64(r))
	}
	return alpha / float64(r)
}

// TestAgainstOriginalBase checks that the rank-2r rewrite carries exactly the trained update minus
// the initial one, for plain and rsLoRA scaling.
func TestAgainstOriginalBase(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, rs := range []bool{false, true} {
		tr := randLayer(rng, "model.layers.0.mlp.up_proj", 3, 5, 4, 6)
		in := randLayer(rng, "model.layers.0.mlp.up_proj", 3, 5, 4, 6)
		c, out, err := AgainstOriginalBase(Config{R: 3, Alpha: 6, RSLoRA: rs, Init: "pissa"}, []Layer{tr}, []Layer{in})
		if err != nil {
			t.Fatal(err)
		}
		if c.R != 6 || out[0].Rank != 6 || c.Init != "" {
			t.Fatalf("rank %d/%d init %q", c.R, out[0].Rank, c.Init)
		}
		s := scaleOf(6, 3, rs)
		got := delta(out[0], scaleOf(out[0].Alpha, 6, rs))
		dt, di := delta(tr, s), delta(in, s)
		for i := range got {
			if math.Abs(got[i]-(dt[i]-di[i])) > 1e-4 {
				t.Fatalf("rslora=%v element %d: %v, want %v", rs, i, got[i], dt[i]-di[i])
			}
		}
	}
	if _, _, err := AgainstOriginalBase(Config{R: 3, Alpha: 6, DoRA: true}, nil, nil); err == nil {
		t.Error("DoRA conversion accepted")
	}
}

// TestDoRARoundTrip saves and loads a DoRA adapter with metadata.
func TestDoRARoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	l := randLayer(rng, "model.layers.0.self_attn.q_proj", 2, 4, 3, 4)
	l.Magnitude = []float32{1, 2, 3}
	dir := t.TempDir() + "/a"
	c := Config{R: 2, Alpha: 4, DoRA: true, Dropout: 0.05, Metadata: map[string]string{"eva.init": "kaiming"}}
	if err := Save(dir, c, []Layer{l}); err != nil {
		t.Fatal(err)
	}
	c2, ls, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c2.DoRA || c2.Dropout != 0.05 || c2.Metadata["eva.init"] != "kaiming" || len(ls) != 1 || len(ls[0].Magnitude) != 3 || ls[0].Magnitude[2] != 3 {
		t.Fatalf("loaded %+v %+v", c2, ls)
	}
	l.Magnitude = nil
	if err := Save(t.TempDir()+"/b", c, []Layer{l}); err == nil {
		t.Error("DoRA config without magnitudes saved")
	}
}
