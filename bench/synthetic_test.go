package bench

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/eva-lora/eva/linalg"
	"github.com/eva-lora/eva/lora/inits"
)

// tinySynthetic is a configuration small enough for unit tests.
func tinySynthetic() SyntheticConfig {
	cfg := DefaultSyntheticConfig(true)
	cfg.D, cfg.Spikes, cfg.DeltaRank, cfg.Batch, cfg.CalibBatches = 32, 8, 4, 128, 4
	cfg.Ranks, cfg.Seeds, cfg.Steps = []int{4}, 1, 60
	return cfg
}

func mustProblem(t *testing.T, cfg SyntheticConfig, regime int, seed uint64) *problem {
	t.Helper()
	p, err := newProblem(cfg, syntheticRegimes[regime], seed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func randDense(rng *rand.Rand, r, c int, std float64) *linalg.Dense {
	m := linalg.NewDense(r, c)
	for i := range m.Data {
		m.Data[i] = std * rng.NormFloat64()
	}
	return m
}

func mul(t *testing.T, a, b *linalg.Dense) *linalg.Dense {
	t.Helper()
	c, err := linalg.Mul(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// denseM returns M = W0' + s·B·A − W* as a dense d×d matrix, from W0 and ΔW themselves.
func denseM(t *testing.T, p *problem, ad *synthAdapter) *linalg.Dense {
	t.Helper()
	m := mul(t, ad.b, ad.a)
	scaleAll(m, ad.s)
	if ad.a0 != nil {
		m0 := mul(t, ad.b0, ad.a0)
		for i, v := range m0.Data {
			m.Data[i] -= ad.s * v
		}
	}
	delta := mul(t, p.left, p.rows.T()) // W* − W0
	for i := range m.Data {
		m.Data[i] -= delta.Data[i] // W0' − W* = W0 − s·B0·A0 − W0 − ΔW
	}
	return m
}

// denseSigma returns Σ = floor·I + Σ_k λ'_k·q_k·q_kᵀ built from the spike directions.
func denseSigma(t *testing.T, p *problem) *linalg.Dense {
	t.Helper()
	sig := linalg.NewDense(p.d, p.d)
	for i := range p.d {
		for j := range p.d {
			v := 0.0
			for k, l := range p.lambda {
				v += (l - p.floor) * p.q.At(i, k) * p.q.At(j, k)
			}
			if i == j {
				v += p.floor
			}
			sig.Set(i, j, v)
		}
	}
	return sig
}

func testAdapter(rng *rand.Rand, d, r int, offset bool) *synthAdapter {
	res := inits.Result{A: randDense(rng, r, d, 0.3), B: randDense(rng, d, r, 0.3), Offset: offset}
	return newSynthAdapter(res, 1.5, 0.01)
}

// The sampler draws x ~ N(0, Σ) with the spiked Σ, and residuals whose second moment is W0's loss.
func TestSyntheticSampling(t *testing.T) {
	cfg := tinySynthetic()
	p := mustProblem(t, cfg, 2, 1)
	sig := denseSigma(t, p)
	rng := rand.New(rand.NewPCG(7, 7))
	n := 40000
	x, res, err := p.sample(rng, n)
	if err != nil {
		t.Fatal(err)
	}
	emp, err := linalg.TMul(x, x)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, v := range emp.Data {
		worst = max(worst, math.Abs(v/float64(n)-sig.Data[i]))
	}
	if tol := 4 * cfg.SpikeHigh / math.Sqrt(float64(n)); worst > tol {
		t.Errorf("empirical covariance differs from Σ by %.3g (tolerance %.3g)", worst, tol)
	}
	got := dot(res.Data, res.Data) / float64(len(res.Data))
	if math.Abs(got/p.ref-1) > 0.05 {
		t.Errorf("mean squared residual %.4g, want W0's population loss %.4g", got, p.ref)
	}
}

// The Gram-matrix population loss and its B-gradient equal the dense formulas and finite differences.
func TestSyntheticPopulationLossAndGradient(t *testing.T) {
	cfg := tinySynthetic()
	p := mustProblem(t, cfg, 1, 2)
	sig := denseSigma(t, p)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, offset := range []bool{false, true} {
		ad := testAdapter(rng, p.d, 3, offset)
		ad.b = randDense(rng, p.d, 3, 0.3) // move away from the offset point
		m := denseM(t, p, ad)
		msm := mul(t, mul(t, m, sig), m.T())
		tr := 0.0
		for i := range p.d {
			tr += msm.At(i, i)
		}
		want := (tr/float64(p.d) + p.noiseVar) / p.ref
		got, err := p.loss(ad)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-10*want {
			t.Errorf("offset %v: population loss %.12g, dense formula %.12g", offset, got, want)
		}
		g, err := p.gradB(ad)
		if err != nil {
			t.Fatal(err)
		}
		const h = 1e-6
		for _, idx := range []int{0, 7, len(ad.b.Data) - 1} {
			old := ad.b.Data[idx]
			ad.b.Data[idx] = old + h
			lp, _ := p.loss(ad)
			ad.b.Data[idx] = old - h
			lm, _ := p.loss(ad)
			ad.b.Data[idx] = old
			fd := (lp - lm) / (2 * h) * p.ref
			if math.Abs(fd-g.Data[idx]) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("offset %v: ∂L/∂B[%d] = %.9g, finite difference %.9g", offset, idx, g.Data[idx], fd)
			}
		}
	}
}

// denseBatchLoss is the batch MSE computed from the dense error e = res + (s·B·A − s·B0·A0)·x.
func denseBatchLoss(t *testing.T, ad *synthAdapter, x, res *linalg.Dense) float64 {
	t.Helper()
	upd := mul(t, ad.b, ad.a)
	scaleAll(upd, ad.s)
	if ad.a0 != nil {
		u0 := mul(t, ad.b0, ad.a0)
		for i, v := range u0.Data {
			upd.Data[i] -= ad.s * v
		}
	}
	e, err := linalg.MulT(x, upd)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range res.Data {
		e.Data[i] += v
	}
	return dot(e.Data, e.Data) / float64(len(e.Data))
}

// The stacked batch gradients of several students equal finite differences of each one's loss.
func TestSyntheticBatchGradients(t *testing.T) {
	cfg := tinySynthetic()
	p := mustProblem(t, cfg, 0, 3)
	rng := rand.New(rand.NewPCG(5, 6))
	x, res, err := p.sample(rng, 64)
	if err != nil {
		t.Fatal(err)
	}
	models := []*synthAdapter{testAdapter(rng, p.d, 2, true), testAdapter(rng, p.d, 4, false), testAdapter(rng, p.d, 3, true)}
	for _, m := range models {
		m.b = randDense(rng, p.d, m.b.Cols, 0.3)
	}
	grads, err := batchGrads(models, x, res)
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-6
	for j, m := range models {
		if want := denseBatchLoss(t, m, x, res); math.Abs(grads[j].loss-want) > 1e-9*want {
			t.Errorf("student %d: batch loss %.12g, dense %.12g", j, grads[j].loss, want)
		}
		for _, tc := range []struct {
			name string
			w, g []float64
		}{{"A", m.a.Data, grads[j].gA}, {"B", m.b.Data, grads[j].gB}} {
			for _, idx := range []int{0, len(tc.w) / 2, len(tc.w) - 1} {
				old := tc.w[idx]
				tc.w[idx] = old + h
				lp := denseBatchLoss(t, m, x, res)
				tc.w[idx] = old - h
				lm := denseBatchLoss(t, m, x, res)
				tc.w[idx] = old
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-tc.g[idx]) > 1e-6*(1+math.Abs(fd)) {
					t.Errorf("student %d: ∂L/∂%s[%d] = %.9g, finite difference %.9g", j, tc.name, idx, tc.g[idx], fd)
				}
			}
		}
	}
}

// In regime (i), EVA's A covers Σ's top directions (which are ΔW's rows) and random A does not;
// offset and B = 0 methods start at W0's loss, LoRA-One below it.
func TestSyntheticInitProperties(t *testing.T) {
	cfg := tinySynthetic()
	const r = 4
	p := mustProblem(t, cfg, 0, 1)
	cal := &calibration{p: p, rng: rand.New(rand.NewPCG(1, 2)), n: cfg.Batch}
	runs := map[string]SyntheticRun{}
	for _, name := range []string{"kaiming", "eva", "pissa", "olora", "corda", "lora-ga", "lora-one"} {
		m, err := inits.Parse(name)
		if err != nil {
			t.Fatal(err)
		}
		res, _, batches, err := cal.initialise(cfg, m, r, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Offset != m.Offsets() {
			t.Errorf("%s: offset %v, want %v", name, res.Offset, m.Offsets())
		}
		if m.EVA() && batches < 2 {
			t.Errorf("eva converged after %d batches, want ≥ 2 (convergence compares consecutive steps)", batches)
		}
		var run SyntheticRun
		if err := p.describeInit(&run, res, cfg.Scale); err != nil {
			t.Fatal(err)
		}
		runs[name] = run
	}
	eva, kaiming := runs["eva"], runs["kaiming"]
	if eva.OverlapSigma < 0.9 || kaiming.OverlapSigma > 0.5 {
		t.Errorf("overlap with Σ's top-%d directions: eva %.3f (want ≥ 0.9), kaiming %.3f (want ≤ 0.5)", r, eva.OverlapSigma, kaiming.OverlapSigma)
	}
	if eva.OverlapDelta != eva.OverlapSigma {
		t.Errorf("regime (i): ΔW's rows are Σ's top directions, yet the overlaps differ: %v and %v", eva.OverlapDelta, eva.OverlapSigma)
	}
	if eva.GradB0PerA <= 2*kaiming.GradB0PerA {
		t.Errorf("‖∂L/∂B‖/‖A‖ at step 0: eva %.4g, kaiming %.4g; EVA's A should carry far more gradient signal", eva.GradB0PerA, kaiming.GradB0PerA)
	}
	// r = ΔW's rank: B = 0 methods can reach the noise floor; PiSSA must also carry W0's top part,
	// which lies off ΔW's row space in regime (i).
	noiseFloor := cfg.NoiseFrac / (1 + cfg.NoiseFrac)
	if math.Abs(float64(kaiming.Reachable)-noiseFloor) > 1e-9 || math.Abs(float64(eva.Reachable)-noiseFloor) > 1e-9 {
		t.Errorf("reachable loss: kaiming %.6g, eva %.6g, want the noise floor %.6g", kaiming.Reachable, eva.Reachable, noiseFloor)
	}
	if !(float64(runs["pissa"].Reachable) > 10*noiseFloor) {
		t.Errorf("regime (i): pissa can reach %.4g, want well above the noise floor %.4g", runs["pissa"].Reachable, noiseFloor)
	}
	for name, run := range runs {
		if name == "lora-one" {
			if !(run.Loss0 < 1-1e-3) {
				t.Errorf("lora-one starts at loss %.6f, want below W0's (it takes a gradient step without offset)", run.Loss0)
			}
			continue
		}
		if math.Abs(float64(run.Loss0)-1) > 1e-9 {
			t.Errorf("%s starts at normalised loss %.12f, want exactly W0's (1)", name, run.Loss0)
		}
	}
}

// A small end-to-end run: losses fall, EVA beats random in regime (i), and the results encode and
// render.
func TestRunSyntheticSmall(t *testing.T) {
	cfg := tinySynthetic()
	cfg.Methods = []string{"kaiming", "eva", "pissa"}
	cfg.LRs = []float64{0.01, 0.03}
	res, err := RunSynthetic(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(syntheticRegimes) * len(cfg.Methods) * len(cfg.LRs); len(res.Runs) != want {
		t.Fatalf("%d runs, want %d", len(res.Runs), want)
	}
	for _, run := range res.Runs {
		if len(run.Curve) != cfg.Steps/cfg.EvalEvery+1 {
			t.Fatalf("%s/%s: %d loss points, want %d", run.Regime, run.Method, len(run.Curve), cfg.Steps/cfg.EvalEvery+1)
		}
		if run.Final < run.Reachable-1e-9 {
			t.Errorf("%s/%s: final loss %.6g below the reachable %.6g (Eckart–Young)", run.Regime, run.Method, run.Final, run.Reachable)
		}
		if run.Regime == "w0" && run.Method == "pissa" && run.Reachable > 2*Float(cfg.NoiseFrac) {
			t.Errorf("regime (ii): pissa can reach only %.4g; ΔW lies in the part of W0 it adapts", run.Reachable)
		}
		if !(run.Final < run.Loss0/2) {
			t.Errorf("%s/%s lr %g: loss %.4f → %.4f, want at least halved", run.Regime, run.Method, run.LR, run.Loss0, run.Final)
		}
	}
	mean := map[string]float64{}
	for _, s := range res.Summaries {
		if s.Regime == "sigma" {
			mean[s.Method] = float64(s.MeanLoss.Mean)
		}
	}
	if !(mean["eva"] < mean["kaiming"]) {
		t.Errorf("regime (i): mean loss eva %.4f, kaiming %.4f; EVA's A starts on ΔW's rows and should be faster", mean["eva"], mean["kaiming"])
	}
	if len(res.Verdicts) != len(syntheticRegimes) {
		t.Fatalf("%d verdicts, want one per regime", len(res.Verdicts))
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back SyntheticResults
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Runs) != len(res.Runs) || back.Runs[0].Final != res.Runs[0].Final {
		t.Errorf("JSON round trip changed the runs")
	}
	md := res.Markdown()
	for _, regime := range syntheticRegimes {
		if !strings.Contains(md, regime.Title) {
			t.Errorf("Markdown lacks the section %q", regime.Title)
		}
	}
	for _, v := range res.Verdicts {
		if !strings.Contains(md, v.Text) {
			t.Errorf("Markdown lacks the verdict %q", v.Text)
		}
	}
}

func stat(mean, std float64) Stat { return Stat{Mean: Float(mean), Std: Float(std), N: 3} }

// Verdicts follow the numbers: the expected winner, clear margins, and ties in regime (iii).
func TestSyntheticVerdict(t *testing.T) {
	sums := func(losses map[string]Stat) []SyntheticSummary {
		var out []SyntheticSummary
		for _, m := range []string{"kaiming", "eva", "pissa", "lora-one"} {
			out = append(out, SyntheticSummary{Method: m, MeanLoss: losses[m]})
		}
		return out
	}
	v := verdict(syntheticRegimes[0], 8, sums(map[string]Stat{
		"kaiming": stat(0.3, 0.01), "eva": stat(0.1, 0.01), "pissa": stat(0.4, 0.01), "lora-one": stat(0.05, 0.01)}))
	if v.CoreWinner != "eva" || v.Winner != "lora-one" || !v.Clear || !v.Matches {
		t.Errorf("regime (i), eva clearly best of the core: %+v", v)
	}
	v = verdict(syntheticRegimes[1], 8, sums(map[string]Stat{
		"kaiming": stat(0.3, 0.01), "eva": stat(0.1, 0.1), "pissa": stat(0.15, 0.1), "lora-one": stat(0.5, 0.01)}))
	if v.CoreWinner != "eva" || v.Clear || v.Matches || !strings.Contains(v.Text, "NOT as expected") {
		t.Errorf("regime (ii), eva ahead within noise: %+v", v)
	}
	v = verdict(syntheticRegimes[2], 8, sums(map[string]Stat{
		"kaiming": stat(0.3, 0.01), "eva": stat(0.2, 0.05), "pissa": stat(0.25, 0.05), "lora-one": stat(0.5, 0.01)}))
	if !v.Matches {
		t.Errorf("regime (iii), eva and pissa within one std: %+v", v)
	}
	v = verdict(syntheticRegimes[2], 8, sums(map[string]Stat{
		"kaiming": stat(0.3, 0.01), "eva": stat(0.1, 0.01), "pissa": stat(0.25, 0.01), "lora-one": stat(0.5, 0.01)}))
	if v.Matches {
		t.Errorf("regime (iii), eva clearly ahead of pissa: %+v", v)
	}
}

func TestSyntheticConfigValidation(t *testing.T) {
	for name, edit := range map[string]func(*SyntheticConfig){
		"rank too large":    func(c *SyntheticConfig) { c.Ranks = []int{c.D} },
		"unknown method":    func(c *SyntheticConfig) { c.Methods = []string{"nope"} },
		"ragged eval":       func(c *SyntheticConfig) { c.Steps = c.EvalEvery*3 + 1 },
		"ΔW beyond spikes":  func(c *SyntheticConfig) { c.DeltaRank = c.Spikes + 1 },
		"no learning rates": func(c *SyntheticConfig) { c.LRs = nil },
		"negative lr":       func(c *SyntheticConfig) { c.LRs = []float64{-1} },
	} {
		cfg := tinySynthetic()
		edit(&cfg)
		if _, err := RunSynthetic(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "synthetic suite") {
			t.Errorf("%s: error %v, want a synthetic suite configuration error", name, err)
		}
	}
}

func TestSuiteRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Suites() {
		if s.Name == "" || strings.ToLower(s.Name) != s.Name || strings.ContainsAny(s.Name, " /") || s.Description == "" || s.Run == nil {
			t.Errorf("suite %+v: want a lower-case name without spaces or slashes, a description and a Run", s)
		}
		if seen[s.Name] {
			t.Errorf("suite %q registered twice", s.Name)
		}
		seen[s.Name] = true
		got, err := LookupSuite(s.Name)
		if err != nil || got.Name != s.Name {
			t.Errorf("LookupSuite(%q) = %q, %v", s.Name, got.Name, err)
		}
	}
	if _, err := LookupSuite("no-such-suite"); err == nil || !strings.Contains(err.Error(), "synthetic") {
		t.Errorf("unknown suite: error %v, want one listing the known suites", err)
	}
}

func TestFloatJSON(t *testing.T) {
	in := []Float{1.5, Float(math.NaN()), Float(math.Inf(1)), -2e-300}
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != "[1.5,null,null,-2e-300]" {
		t.Errorf("encoded %s", js)
	}
	var back []Float
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back[0] != 1.5 || !math.IsNaN(float64(back[1])) || back[3] != -2e-300 {
		t.Errorf("decoded %v", back)
	}
}
