package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/tensor"
)

// testParam makes a parameter with random values and a zero gradient.
func testParam(be *cpu.Backend, rng *rand.Rand, name string, shape ...int) Param {
	v := make([]float32, tensor.Numel(shape))
	for i := range v {
		v[i] = float32(2*rng.Float64() - 1)
	}
	return Param{Name: name, Value: be.FromHost(v, shape...), Grad: be.Zeros(shape...)}
}

// fillGrad sets p's gradient to random values of the given scale.
func fillGrad(p Param, rng *rand.Rand, scale float64) {
	g := cpu.Data(p.Grad)
	for i := range g {
		g[i] = float32((2*rng.Float64() - 1) * scale)
	}
}

// refParam is the float64 reference state of one parameter.
type refParam struct {
	p, m, v []float64
	lrScale float64
	decay   bool
}

// refStep applies AdamW (torch.optim.AdamW's documented algorithm) in float64.
func (r *refParam) step(g []float64, lr float64, c AdamWConfig, t int) {
	lr *= r.lrScale
	wd := 0.0
	if r.decay {
		wd = c.WeightDecay
	}
	bc1, bc2 := 1-math.Pow(c.Beta1, float64(t)), 1-math.Pow(c.Beta2, float64(t))
	for i := range r.p {
		r.p[i] *= 1 - lr*wd
		r.m[i] = c.Beta1*r.m[i] + (1-c.Beta1)*g[i]
		r.v[i] = c.Beta2*r.v[i] + (1-c.Beta2)*g[i]*g[i]
		r.p[i] -= lr * (r.m[i] / bc1) / (math.Sqrt(r.v[i]/bc2) + c.Eps)
	}
}

func assertClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*max(1, math.Abs(want[i]))) {
			t.Fatalf("%s: element %d = %v, want %v (error %.3g)", what, i, got[i], want[i], d)
		}
	}
}

// Two groups with different learning-rate scales and weight-decay switches, a learning rate that
// changes every step, over five steps: every value and moment follows the float64 reference.
func TestAdamWMatchesReference(t *testing.T) {
	be := cpu.New()
	rng := rand.New(rand.NewPCG(1, 2))
	a := testParam(be, rng, "l.lora_A.weight", 4, 6)
	b := testParam(be, rng, "l.lora_B.weight", 5, 4)
	bias := testParam(be, rng, "l.bias", 5)
	groups := []ParamGroup{
		{Name: "A", LRScale: 1, WeightDecay: true, Params: []Param{a}},
		{Name: "B", LRScale: 4, WeightDecay: false, Params: []Param{b, bias}},
	}
	cfg := AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1}
	opt, err := NewAdamW(be, groups, cfg)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]*refParam{}
	for _, g := range groups {
		for _, p := range g.Params {
			n := p.Value.Len()
			refs[p.Name] = &refParam{p: to64(cpu.Data(p.Value)), m: make([]float64, n), v: make([]float64, n), lrScale: g.LRScale, decay: g.WeightDecay}
		}
	}
	sched, _ := NewSchedule(ScheduleLinear, 2, 6)
	for step := 1; step <= 5; step++ {
		lr := sched.LR(step, 0.02) // nonzero from the first step here
		for _, p := range []Param{a, b, bias} {
			fillGrad(p, rng, 1)
			refs[p.Name].step(to64(cpu.Data(p.Grad)), lr, cfg, step)
		}
		if err := opt.Step(lr); err != nil {
			t.Fatal(err)
		}
		st := opt.State()
		for _, p := range []Param{a, b, bias} {
			r := refs[p.Name]
			assertClose(t, p.Name+" value", cpu.Data(p.Value), r.p, 2e-6)
			assertClose(t, p.Name+" exp_avg", st.Params[p.Name].M, r.m, 2e-6)
			assertClose(t, p.Name+" exp_avg_sq", st.Params[p.Name].V, r.v, 2e-6)
		}
	}
	if opt.Steps() != 5 {
		t.Errorf("Steps() = %d, want 5", opt.Steps())
	}
}

func TestClipGradNorm(t *testing.T) {
	be := cpu.New()
	p1 := Param{Name: "p1", Value: be.Zeros(2), Grad: be.FromHost([]float32{3, 0}, 2)}
	p2 := Param{Name: "p2", Value: be.Zeros(1, 2), Grad: be.FromHost([]float32{0, 4}, 1, 2)}
	opt, err := NewAdamW(be, []ParamGroup{{LRScale: 1, Params: []Param{p1, p2}}}, DefaultAdamW())
	if err != nil {
		t.Fatal(err)
	}
	if n := opt.GradNorm(); n != 5 {
		t.Errorf("GradNorm = %v, want 5", n)
	}
	// maxNorm above the norm (and maxNorm ≤ 0) leave the gradients alone.
	for _, maxNorm := range []float64{10, 0, -1} {
		norm, err := opt.ClipGradNorm(maxNorm)
		if err != nil || norm != 5 {
			t.Fatalf("ClipGradNorm(%v) = %v, %v; want 5, nil", maxNorm, norm, err)
		}
		if got := cpu.Data(p1.Grad); got[0] != 3 {
			t.Fatalf("ClipGradNorm(%v) changed the gradient to %v", maxNorm, got)
		}
	}
	// Clipping to 1 scales by 1/(5 + 1e-6), as torch.nn.utils.clip_grad_norm_ does.
	norm, err := opt.ClipGradNorm(1)
	if err != nil || norm != 5 {
		t.Fatalf("ClipGradNorm(1) = %v, %v; want 5 (the pre-clip norm), nil", norm, err)
	}
	coef := 1 / (5 + 1e-6)
	assertClose(t, "clipped p1", cpu.Data(p1.Grad), []float64{3 * coef, 0}, 1e-7)
	assertClose(t, "clipped p2", cpu.Data(p2.Grad), []float64{0, 4 * coef}, 1e-7)
	if n := opt.GradNorm(); math.Abs(n-5*coef) > 1e-6 {
		t.Errorf("norm after clipping = %v, want %v", n, 5*coef)
	}
	opt.ZeroGrad()
	if opt.GradNorm() != 0 {
		t.Errorf("ZeroGrad left norm %v", opt.GradNorm())
	}
}

// A NaN or infinite gradient is reported before anything changes: values, moments, step count and
// the other gradients stay as they were.
func TestNonFiniteGradientStopsBeforeUpdate(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		be := cpu.New()
		rng := rand.New(rand.NewPCG(3, 4))
		good, broken := testParam(be, rng, "good", 3, 2), testParam(be, rng, "broken", 4)
		opt, err := NewAdamW(be, []ParamGroup{{LRScale: 1, WeightDecay: true, Params: []Param{good, broken}}}, AdamWConfig{0.9, 0.999, 1e-8, 0.1})
		if err != nil {
			t.Fatal(err)
		}
		fillGrad(good, rng, 1)
		fillGrad(broken, rng, 1)
		if _, err := opt.ClipAndStep(1e-2, 1); err != nil {
			t.Fatal(err)
		}
		before := opt.State()
		values := slices.Clone(cpu.Data(good.Value))
		fillGrad(good, rng, 1)
		grads := slices.Clone(cpu.Data(good.Grad))
		cpu.Data(broken.Grad)[2] = bad
		norm, err := opt.ClipAndStep(1e-2, 1)
		if !errors.Is(err, ErrNonFiniteGrad) {
			t.Fatalf("gradient %v: err = %v, want ErrNonFiniteGrad", bad, err)
		}
		if !math.IsNaN(norm) && !math.IsInf(norm, 1) {
			t.Errorf("gradient %v: norm %v, want NaN or +Inf", bad, norm)
		}
		if !strings.Contains(err.Error(), "broken") || strings.Contains(err.Error(), "good") {
			t.Errorf("error %q does not name the parameter", err)
		}
		if !slices.Equal(cpu.Data(good.Value), values) || !slices.Equal(cpu.Data(good.Grad), grads) {
			t.Errorf("gradient %v: a parameter or gradient changed", bad)
		}
		after := opt.State()
		if after.Step != before.Step || !slices.Equal(after.Params["good"].M, before.Params["good"].M) {
			t.Errorf("gradient %v: optimizer state changed", bad)
		}
	}
}

// Saving the state, loading it into a fresh optimizer over copies of the parameters and continuing
// gives bit-identical parameters.
func TestStateRoundTripIsExact(t *testing.T) {
	be := cpu.New()
	rng := rand.New(rand.NewPCG(5, 6))
	mk := func() []Param {
		r := rand.New(rand.NewPCG(7, 8))
		return []Param{testParam(be, r, "x.lora_A.weight", 3, 5), testParam(be, r, "x.lora_B.weight", 4, 3)}
	}
	cfg := AdamWConfig{0.9, 0.999, 1e-8, 0.01}
	run1 := mk()
	groups1, err := GroupParams(run1, 16)
	if err != nil {
		t.Fatal(err)
	}
	opt1, _ := NewAdamW(be, groups1, cfg)
	grads := func() [][]float32 { // the same gradient stream for both runs
		return [][]float32{randSlice(rng, 15), randSlice(rng, 12)}
	}
	setGrads := func(ps []Param, g [][]float32) {
		for i, p := range ps {
			copy(cpu.Data(p.Grad), g[i])
		}
	}
	for range 3 {
		setGrads(run1, grads())
		if _, err := opt1.ClipAndStep(1e-3, 1); err != nil {
			t.Fatal(err)
		}
	}
	saved := opt1.State()
	run2 := mk()
	for i := range run2 {
		copy(cpu.Data(run2[i].Value), cpu.Data(run1[i].Value))
	}
	groups2, _ := GroupParams(run2, 16)
	opt2, _ := NewAdamW(be, groups2, cfg)
	if err := opt2.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		g := grads()
		setGrads(run1, g)
		setGrads(run2, g)
		opt1.ClipAndStep(1e-3, 1)
		opt2.ClipAndStep(1e-3, 1)
	}
	for i := range run1 {
		a, b := cpu.Data(run1[i].Value), cpu.Data(run2[i].Value)
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
				t.Fatalf("%s[%d]: %v after resume, %v without", run1[i].Name, j, b[j], a[j])
			}
		}
	}
	if opt2.Steps() != 5 {
		t.Errorf("resumed Steps() = %d, want 5", opt2.Steps())
	}
	// Mutating the saved state afterwards must not reach the optimizer (LoadState copies).
	saved.Params["x.lora_A.weight"].M[0] = 99
	if opt2.State().Params["x.lora_A.weight"].M[0] == 99 {
		t.Error("LoadState kept a reference to the caller's slice")
	}
}

func TestLoadStateRejectsMismatches(t *testing.T) {
	be := cpu.New()
	rng := rand.New(rand.NewPCG(9, 10))
	p := testParam(be, rng, "w", 2, 3)
	opt, _ := NewAdamW(be, []ParamGroup{{LRScale: 1, Params: []Param{p}}}, DefaultAdamW())
	good := opt.State()
	cases := map[string]*OptimizerState{
		"no state":        nil,
		"negative step":   {Step: -1, Params: good.Params},
		"missing param":   {Step: 1, Params: map[string]ParamState{}},
		"wrong shape":     {Step: 1, Params: map[string]ParamState{"w": {Shape: []int{3, 2}, M: make([]float32, 6), V: make([]float32, 6)}}},
		"short moments":   {Step: 1, Params: map[string]ParamState{"w": {Shape: []int{2, 3}, M: make([]float32, 5), V: make([]float32, 6)}}},
		"extra parameter": {Step: 1, Params: map[string]ParamState{"w": good.Params["w"], "other": good.Params["w"]}},
	}
	for name, st := range cases {
		if err := opt.LoadState(st); err == nil {
			t.Errorf("%s: LoadState accepted it", name)
		} else if name == "extra parameter" && !strings.Contains(err.Error(), "other") {
			t.Errorf("%s: error %q does not name the parameter", name, err)
		}
	}
	if opt.Steps() != 0 {
		t.Errorf("a failed LoadState changed the step count to %d", opt.Steps())
	}
}

func TestNewAdamWValidation(t *testing.T) {
	be := cpu.New()
	rng := rand.New(rand.NewPCG(11, 12))
	p := testParam(be, rng, "w", 2, 2)
	badGrad := Param{Name: "g", Value: be.Zeros(2, 2), Grad: be.Zeros(3)}
	cases := map[string]struct {
		groups []ParamGroup
		cfg    AdamWConfig
	}{
		"beta1 = 1":      {[]ParamGroup{{LRScale: 1, Params: []Param{p}}}, AdamWConfig{1, 0.999, 1e-8, 0}},
		"negative decay": {[]ParamGroup{{LRScale: 1, Params: []Param{p}}}, AdamWConfig{0.9, 0.999, 1e-8, -1}},
		"zero lr scale":  {[]ParamGroup{{Params: []Param{p}}}, DefaultAdamW()},
		"duplicate name": {[]ParamGroup{{LRScale: 1, Params: []Param{p}}, {LRScale: 2, Params: []Param{p}}}, DefaultAdamW()},
		"no gradient":    {[]ParamGroup{{LRScale: 1, Params: []Param{{Name: "n", Value: p.Value}}}}, DefaultAdamW()},
		"grad size":      {[]ParamGroup{{LRScale: 1, Params: []Param{badGrad}}}, DefaultAdamW()},
	}
	for name, c := range cases {
		if _, err := NewAdamW(be, c.groups, c.cfg); err == nil {
			t.Errorf("%s: NewAdamW accepted it", name)
		}
	}
	opt, _ := NewAdamW(be, []ParamGroup{{LRScale: 1, Params: []Param{p}}}, DefaultAdamW())
	for _, lr := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := opt.Step(lr); err == nil {
			t.Errorf("Step(%v) accepted it", lr)
		}
	}
}

func TestGroupParams(t *testing.T) {
	be := cpu.New()
	rng := rand.New(rand.NewPCG(13, 14))
	params := []Param{
		testParam(be, rng, "model.layers.0.self_attn.q_proj.lora_A.weight", 4, 8),
		testParam(be, rng, "model.layers.0.self_attn.q_proj.lora_B.weight", 8, 4),
		testParam(be, rng, "model.layers.0.self_attn.q_proj.lora_magnitude_vector", 8), // 1-D: B, decays
		testParam(be, rng, "model.layers.0.self_attn.q_proj.bias", 8),                  // 1-D bias: B, no decay
		testParam(be, rng, "model.norm.weight", 8),                                     // 1-D norm: B, no decay
		testParam(be, rng, "transformer.h.0.ln_1.weight", 8),                           // GPT-2 LayerNorm
	}
	summary := func(groups []ParamGroup) map[string][]string {
		out := map[string][]string{}
		for _, g := range groups {
			for _, p := range g.Params {
				out[g.Name] = append(out[g.Name], p.Name[strings.LastIndex(p.Name[:strings.LastIndex(p.Name, ".")], ".")+1:])
			}
		}
		return out
	}
	plus, err := GroupParams(params, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"A":          {"lora_A.weight"},
		"B":          {"lora_B.weight", "q_proj.lora_magnitude_vector"},
		"B_no_decay": {"q_proj.bias", "norm.weight", "ln_1.weight"},
	}
	got := summary(plus)
	for g, names := range want {
		if !slices.Equal(got[g], names) {
			t.Errorf("LoRA+ group %s = %v, want %v", g, got[g], names)
		}
	}
	for _, g := range plus {
		wantScale, wantDecay := 16.0, g.Name == "B"
		if g.Name == "A" {
			wantScale, wantDecay = 1, true
		}
		if g.LRScale != wantScale || g.WeightDecay != wantDecay {
			t.Errorf("group %s: scale %v decay %v, want %v %v", g.Name, g.LRScale, g.WeightDecay, wantScale, wantDecay)
		}
	}
	plain, err := GroupParams(params, 0)
	if err != nil {
		t.Fatal(err)
	}
	got = summary(plain)
	if len(got["decay"]) != 3 || len(got["no_decay"]) != 3 {
		t.Errorf("plain groups %v, want 3 decayed (A, B, magnitude) and 3 not", got)
	}
	for _, g := range plain {
		if g.LRScale != 1 {
			t.Errorf("plain group %s has scale %v", g.Name, g.LRScale)
		}
	}
	if _, err := GroupParams([]Param{testParam(be, rng, "embed.lora_embedding_A.default", 4, 4)}, 16); err == nil {
		t.Error("LoRA+ accepted an embedding adapter")
	}
	if _, err := GroupParams(params, -1); err == nil {
		t.Error("negative ratio accepted")
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(2*rng.Float64() - 1)
	}
	return s
}
