package inits

import (
	"errors"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// TestParse checks names, aliases and PEFT spellings against each method's canonical name, the
// statistics it needs and whether it offsets the base weight.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, name          string
		cov, grad, outGrd bool
		offset            bool
	}{
		{"kaiming", "kaiming", false, false, false, false},
		{"lora", "kaiming", false, false, false, false},
		{"True", "kaiming", false, false, false, false},
		{"gaussian", "gaussian", false, false, false, false},
		{"Orthonormal", "orthonormal", false, false, false, false},
		{"pissa", "pissa", false, false, false, true},
		{"pissa_niter_4", "pissa_niter_4", false, false, false, true},
		{"PiSSA-niter-0", "pissa_niter_0", false, false, false, true},
		{"milora", "milora", false, false, false, true},
		{"olora", "olora", false, false, false, true},
		{"corda", "corda-ipm", true, false, false, true},
		{"corda-ipm", "corda-ipm", true, false, false, true},
		{"corda_kpm", "corda-kpm", true, false, false, true},
		{"lora_ga", "lora-ga", false, true, false, true},
		{"lora-one", "lora-one", false, true, false, false},
		{"LoRA-DA", "lora-da", true, true, true, false},
		{"ailora", "ailora", false, false, false, true},
		{" eva ", "eva", false, false, false, false},
	} {
		m, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		cov, grad := m.Needs()
		if m.String() != c.name || cov != c.cov || grad != c.grad || m.NeedsOutGradSq() != c.outGrd || m.Offsets() != c.offset {
			t.Errorf("Parse(%q) = %s needs (cov %v, grad %v, outGrad %v) offsets %v; want %s (%v, %v, %v) %v",
				c.in, m, cov, grad, m.NeedsOutGradSq(), m.Offsets(), c.name, c.cov, c.grad, c.outGrd, c.offset)
		}
		if m.EVA() != (c.name == "eva") {
			t.Errorf("Parse(%q).EVA() = %v", c.in, m.EVA())
		}
	}
	for _, bad := range []string{"", "loftq", "pissa_niter_", "pissa_niter_-1", "pissa_niter_x", "corda-xyz"} {
		if _, err := Parse(bad); !errors.Is(err, ErrUnknownMethod) {
			t.Errorf("Parse(%q): %v, want ErrUnknownMethod", bad, err)
		}
	}
	for _, name := range Names() {
		if name == "pissa_niter_N" {
			continue
		}
		m, err := Parse(name)
		if err != nil || m.String() != name {
			t.Errorf("Names() lists %q but Parse gives %v, %v", name, m, err)
		}
	}
}

// TestInit runs every method through the dispatcher on a 24×16 layer with all statistics present:
// each returns A [r, in] and B [out, r], sets Offset exactly when the registry says so, and the offset
// methods reconstruct W. EVA is refused with ErrUnsupported.
func TestInit(t *testing.T) {
	w := gaussian(tOut, tIn, 60)
	st := Stats{Cov: calibCov(t, tIn, 64, 61), Grad: testGrad(t, 62), OutGradSq: uniform(tOut, 0.5)}
	lda := DefaultLoRADAOptions()
	lda.Population = 100
	cfg := Config{Rank: tRank, Scale: tScale, Layer: "model.layers.0.self_attn.q_proj", Seed: 1, LoRADA: &lda}
	for _, name := range Names() {
		if name == "pissa_niter_N" {
			name = "pissa_niter_2"
		}
		m, err := Parse(name)
		must(t, err)
		res, err := Init(m, w, st, cfg)
		if m.EVA() {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("Init(eva): %v, want ErrUnsupported", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Init(%s): %v", name, err)
			continue
		}
		assertShapes(t, res, tOut, tIn, tRank)
		if res.Offset != m.Offsets() {
			t.Errorf("Init(%s).Offset = %v, registry says %v", name, res.Offset, m.Offsets())
		}
		if res.Offset {
			assertReconstructs(t, res, w, tScale)
		}
	}
}

// TestInitMissingStats checks that each data-driven method names the statistic it lacks, and that
// a gradient of the wrong shape is refused.
func TestInitMissingStats(t *testing.T) {
	w := gaussian(tOut, tIn, 63)
	full := Stats{Cov: calibCov(t, tIn, 64, 64), Grad: testGrad(t, 65), OutGradSq: uniform(tOut, 0.5)}
	lda := DefaultLoRADAOptions()
	lda.Population = 100
	cfg := Config{Rank: tRank, Scale: tScale, LoRADA: &lda}
	for _, c := range []struct {
		method string
		drop   func(*Stats)
	}{
		{"corda-ipm", func(s *Stats) { s.Cov = nil }},
		{"corda-kpm", func(s *Stats) { s.Cov = nil }},
		{"lora-ga", func(s *Stats) { s.Grad = nil }},
		{"lora-one", func(s *Stats) { s.Grad = nil }},
		{"lora-da", func(s *Stats) { s.Grad = nil }},
		{"lora-da", func(s *Stats) { s.Cov = nil }},
		{"lora-da", func(s *Stats) { s.OutGradSq = nil }},
	} {
		m, err := Parse(c.method)
		must(t, err)
		st := full
		c.drop(&st)
		if _, err := Init(m, w, st, cfg); !errors.Is(err, ErrMissingStats) {
			t.Errorf("Init(%s) without a statistic: %v, want ErrMissingStats", c.method, err)
		}
	}
	for _, name := range []string{"lora-one", "lora-da", "lora-ga"} {
		m, _ := Parse(name)
		st := full
		st.Grad = testGrad(t, 66).T()
		if _, err := Init(m, w, st, cfg); !errors.Is(err, linalg.ErrShape) {
			t.Errorf("Init(%s) with a transposed gradient: %v, want ErrShape", name, err)
		}
	}
	m, _ := Parse("lora-da")
	if _, err := Init(m, w, full, Config{Rank: tRank, Scale: tScale}); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("Init(lora-da) without Population: %v, want ErrArgument", err)
	}
	if _, err := Init(m, nil, full, cfg); !errors.Is(err, linalg.ErrShape) {
		t.Errorf("Init with a nil weight: %v, want ErrShape", err)
	}
}
