package eva

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// Parity with Hugging Face PEFT 0.21 (exact SVD), from the fixtures in testdata/eva.

// deviation collects the largest differences between our IPCA states and PEFT's.
type deviation struct {
	oneMinusCos, sigmaRel, evrAbs, meanRel, varRel float64
	signs, flags, seen                             int
}

func (d *deviation) String() string {
	return fmt.Sprintf("1−cos %.2g, σ rel %.2g, EVR abs %.2g, mean rel %.2g, var rel %.2g, sign flips %d, flag mismatches %d, count mismatches %d",
		d.oneMinusCos, d.sigmaRel, d.evrAbs, d.meanRel, d.varRel, d.signs, d.flags, d.seen)
}

// compare records the differences between est and PEFT's state after trace step prefix, and between
// the convergence flags computed from prev (nil for a layer's first step) and PEFT's.
func (d *deviation) compare(ts *tensors, prefix string, est *estimator, prev *linalg.Dense, tau float64) {
	comps := ts.f64(prefix + "components")
	sigma, evr := ts.f64(prefix+"singular_values"), ts.f64(prefix+"explained_variance_ratio")
	mean, variance := ts.f64(prefix+"mean"), ts.f64(prefix+"var")
	for i := range est.k {
		c := dot(est.components.Row(i), comps[i*est.d:(i+1)*est.d]) // both rows are unit vectors
		if c < 0 {
			d.signs++
		}
		d.oneMinusCos = max(d.oneMinusCos, 1-math.Abs(c))
		d.sigmaRel = max(d.sigmaRel, relErr(est.singular[i], sigma[i]))
		d.evrAbs = max(d.evrAbs, math.Abs(est.evr[i]-evr[i]))
	}
	for j := range est.d {
		d.meanRel = max(d.meanRel, relErr(est.mean[j], mean[j]))
		d.varRel = max(d.varRel, relErr(est.variance[j], variance[j]))
	}
	if est.seen != ts.i64(prefix+"n_samples_seen") {
		d.seen++
	}
	want := ts.flags(prefix + "converged")
	for i := range est.k {
		got := prev != nil && cosines(est.components, prev)[i] >= tau
		if got != want[i] {
			d.flags++
		}
	}
}

// setState loads PEFT's state after trace step prefix into est.
func setState(ts *tensors, prefix string, est *estimator) {
	est.components = &linalg.Dense{Rows: est.k, Cols: est.d, Data: ts.f64(prefix + "components")}
	est.singular, est.evr = ts.f64(prefix+"singular_values"), ts.f64(prefix+"explained_variance_ratio")
	est.mean, est.variance = ts.f64(prefix+"mean"), ts.f64(prefix+"var")
	est.seen = ts.i64(prefix + "n_samples_seen")
}

// TestPEFTIncrementalPCASteps feeds every X of the default-exact trace through our exact IPCA, both
// free-running (our own previous state, as in a real run) and teacher-forced (PEFT's previous
// state, isolating one step), and compares each step with PEFT's.
func TestPEFTIncrementalPCASteps(t *testing.T) {
	f := loadFixture(t, "default-exact")
	ts := openTensors(t, "default-exact-trace.safetensors")
	source := ts.inputs(f.InFeatures)
	var first, free, forced deviation
	own, prevPEFT := map[string]*estimator{}, map[string]string{}
	for _, step := range f.Trace {
		k, d := f.MaxComponents[step.Layer], f.InFeatures[step.Layer]
		rows, n := source(step.Layer, step.Batch)
		if n != step.Rows || step.Batch != (step.Forward-1)%16 {
			t.Fatalf("trace step %+v: X has %d rows", step, n)
		}
		prefix := fmt.Sprintf("step.%d.%s.", step.Forward, step.Layer)

		est, ok := own[step.Layer]
		if !ok {
			est = newEstimator(Exact, k, d, 0)
			own[step.Layer] = est
		}
		prev := est.components
		if _, err := est.fit(testEnv(), rows, n); err != nil {
			t.Fatal(err)
		}
		if step.Step == 0 {
			first.compare(ts, prefix, est, nil, f.EvaConfig.Tau)
			prevPEFT[step.Layer] = prefix
			continue
		}
		free.compare(ts, prefix, est, prev, f.EvaConfig.Tau)

		one := newEstimator(Exact, k, d, 0)
		setState(ts, prevPEFT[step.Layer], one)
		before := one.components
		if _, err := one.fit(testEnv(), rows, n); err != nil {
			t.Fatal(err)
		}
		forced.compare(ts, prefix, one, before, f.EvaConfig.Tau)
		prevPEFT[step.Layer] = prefix
	}
	t.Logf("first steps (PEFT float32): %v", &first)
	t.Logf("later steps, free-running: %v", &free)
	t.Logf("later steps, teacher-forced: %v", &forced)
	// PEFT's first step is float32 throughout; later steps centre X in float32 on a float32 column
	// mean and (second step) stack the float32 first-step state, which leaves a few 1e-8 of relative
	// difference in σ even when one step is isolated (measured: 1−cos 3.6e-13, σ 2.4e-8, EVR 4.1e-9),
	// and the free-running state carries the first step's float32 error along (1−cos 3.6e-9,
	// σ 2.6e-6, EVR 1.9e-7). The bounds are about 5 times the measured maxima.
	for _, c := range []struct {
		name                    string
		dev                     *deviation
		oneMinusCos, sigma, evr float64
	}{
		{"first steps", &first, 5e-6, 5e-6, 5e-6},
		{"free-running", &free, 2e-8, 1.5e-5, 1e-6},
		{"teacher-forced", &forced, 2e-12, 1.5e-7, 2e-8},
	} {
		d := c.dev
		if d.oneMinusCos > c.oneMinusCos || d.sigmaRel > c.sigma || d.evrAbs > c.evr ||
			d.meanRel > 1e-13 || d.varRel > 1e-13 || d.signs+d.flags+d.seen > 0 {
			t.Errorf("%s: %v; want 1−cos ≤ %g, σ rel ≤ %g, EVR abs ≤ %g, mean and var rel ≤ 1e-13, no sign, flag or count mismatch",
				c.name, d, c.oneMinusCos, c.sigma, c.evr)
		}
	}
}

// TestPEFTControllerParity drives a Run with the traced layer inputs for every exact scenario whose
// rows the trace holds (all but nolabelmask, whose mask selects other rows) and checks, forward by
// forward, which layers listen and the rank distribution, then the forward count, the final ranks,
// A and alpha. PEFT's unstable argsort may permute ranks inside a group where EVRs tie; the
// fixtures' stable-sort replay (rank_dist_stable_sort) is what a stable sort must reproduce.
func TestPEFTControllerParity(t *testing.T) {
	ts := openTensors(t, "default-exact-trace.safetensors")
	for _, scenario := range []string{"default", "rho1", "tau0", "noadjust", "whiten", "rhohalf"} {
		t.Run(scenario, func(t *testing.T) {
			f := loadFixture(t, scenario+"-exact")
			ref := openTensors(t, scenario+"-exact.safetensors")
			source := ts.inputs(f.InFeatures)
			run, err := New(f.config(), f.layers())
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range f.LayerHookMapOrder {
				if run.layers[run.order[i]].Name != name {
					t.Fatalf("redistribution order %d is %s, PEFT's is %s", i, run.layers[run.order[i]].Name, name)
				}
			}
			for _, fw := range f.Forwards[1:] {
				if run.Done() {
					t.Fatalf("done before forward %d; PEFT ran %d SVD forwards", fw.Forward, f.ForwardPasses.SVD)
				}
				if got := run.Listening(); !slices.Equal(got, fw.Active) {
					t.Fatalf("forward %d: listening %v, PEFT's active hooks %v", fw.Forward, got, fw.Active)
				}
				for _, name := range run.Listening() {
					rows, n := source(name, fw.Batch)
					if err := run.Observe(name, rows, n); err != nil {
						t.Fatal(err)
					}
				}
				if err := run.EndBatch(); err != nil {
					t.Fatal(err)
				}
				checkRanks(t, fw.Forward, run, fw.RankDistStable, fw.RankDist)
			}
			if !run.Done() || run.Batches() != f.ForwardPasses.SVD {
				t.Fatalf("after %d batches done = %v; PEFT stopped after %d", run.Batches(), run.Done(), f.ForwardPasses.SVD)
			}
			s, err := run.Result()
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, s)
			worst := 1.0
			for _, l := range s.Layers {
				if l.Rank != f.FinalRanksStable[l.Name] {
					t.Errorf("%s: final rank %d, PEFT %d", l.Name, l.Rank, f.FinalRanksStable[l.Name])
				}
				if f.Layers[l.Name].FittedSteps > 0 && (l.Steps != f.Layers[l.Name].FittedSteps || l.Samples != f.Layers[l.Name].NSamplesSeen) {
					t.Errorf("%s: %d steps over %d rows, PEFT %d over %d", l.Name, l.Steps, l.Samples, f.Layers[l.Name].FittedSteps, f.Layers[l.Name].NSamplesSeen)
				}
				alpha := f.Adapter.Config.LoraAlpha
				if a, ok := f.Adapter.Config.AlphaPattern[l.Name]; ok {
					alpha = a
				}
				if l.Rank > 0 && l.Alpha != alpha {
					t.Errorf("%s: alpha %v, PEFT's adapter config %v", l.Name, l.Alpha, alpha)
				}
				if l.Rank == 0 {
					continue
				}
				key := "A." + l.Name
				if f.EvaConfig.Whiten {
					key = "A_whiten_once." + l.Name // PEFT's own A divides shared rows once per group member
				}
				want := ref.f64(key)
				for c := range l.Rank {
					got, w := l.A[c*l.In:(c+1)*l.In], want[c*l.In:(c+1)*l.In]
					cos := dot(got, w) / math.Sqrt(dot(got, got)*dot(w, w))
					worst = min(worst, cos)
					if cos < 1-1e-9 || relErr(math.Sqrt(dot(got, got)), math.Sqrt(dot(w, w))) > 1e-5 {
						t.Errorf("%s row %d: cosine with PEFT's A %v, norms %v and %v", l.Name, c, cos, math.Sqrt(dot(got, got)), math.Sqrt(dot(w, w)))
					}
				}
			}
			t.Logf("%d forwards, smallest A row cosine with PEFT %.12f", run.Batches(), worst)
		})
	}
}

// checkRanks compares the run's rank distribution with the stable-sort replay exactly and with
// PEFT's own up to a permutation within each shared-input group.
func checkRanks(t *testing.T, forward int, run *Run, stable, peft map[string]int) {
	t.Helper()
	groups := map[int][]int{}
	for i, l := range run.layers {
		if want := stable[l.Name]; run.ranks[i] != want {
			t.Fatalf("forward %d: %s rank %d, PEFT (stable replay) %d", forward, l.Name, run.ranks[i], want)
		}
		groups[l.hook.layer] = append(groups[l.hook.layer], i)
	}
	for _, members := range groups {
		var got, want []int
		for _, i := range members {
			got = append(got, run.ranks[i])
			want = append(want, peft[run.layers[i].Name])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("forward %d: group of %s has ranks %v, PEFT's %v", forward, run.layers[members[0]].Name, got, want)
		}
	}
}

// TestPEFTRandomizedAgreement runs our randomized mode (its own Gaussian sketch, so no bit parity
// with torch.svd_lowrank is possible) on the traced inputs and compares with stock PEFT: final
// ranks and the A rows up to sign.
func TestPEFTRandomizedAgreement(t *testing.T) {
	ts := openTensors(t, "default-exact-trace.safetensors")
	for _, scenario := range []string{"default", "rho1", "tau0", "whiten", "rhohalf"} {
		t.Run(scenario, func(t *testing.T) {
			f := loadFixture(t, scenario+"-randomized")
			ref := openTensors(t, scenario+"-randomized.safetensors")
			cfg := f.config()
			cfg.SVD, cfg.Seed = Randomized, 42
			run, err := New(cfg, f.layers())
			if err != nil {
				t.Fatal(err)
			}
			if err := drive(t, run, ts.inputs(f.InFeatures)); err != nil {
				t.Fatal(err)
			}
			s, err := run.Result()
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, s)
			rankDiff, minLead, sum, count := 0, 1.0, 0.0, 0
			for _, l := range s.Layers {
				want := f.FinalRanksStable[l.Name]
				rankDiff = max(rankDiff, abs(l.Rank-want))
				key := "A." + l.Name
				if f.EvaConfig.Whiten {
					key = "A_whiten_once." + l.Name
				}
				if want == 0 || l.Rank == 0 {
					continue
				}
				w := ref.f64(key)
				for c := range min(l.Rank, want) {
					x, y := l.A[c*l.In:(c+1)*l.In], w[c*l.In:(c+1)*l.In]
					cos := math.Abs(dot(x, y)) / math.Sqrt(dot(x, x)*dot(y, y)) // svd_flip signs hinge on near-tied entries
					if c < 4 {
						minLead = min(minLead, cos)
					}
					sum += cos
					count++
				}
			}
			t.Logf("%d batches (PEFT %d), largest rank difference %d, leading-4 row |cosine| ≥ %.6f, mean row |cosine| %.6f",
				s.Batches, f.ForwardPasses.SVD, rankDiff, minLead, sum/float64(count))
			// PEFT's own consistency floor is a mean |cos| > 0.75. Measured with seed 42: ranks equal,
			// leading rows ≥ 0.9995 except rho1's layers.1.mlp.down_proj (0.968: a flat spectrum around
			// its 8th component, where a q = 16 sketch with 4 power iterations is inaccurate, and the
			// same test matrix at every step repeats its bias; other seeds give 0.93 to 0.9999 there,
			// while PEFT's seed happens to land at 0.9999 of the exact result).
			if rankDiff > 1 || minLead < 0.95 || sum/float64(count) < 0.9 {
				t.Errorf("randomized mode strays from stock PEFT: rank difference %d, leading |cos| %v, mean |cos| %v",
					rankDiff, minLead, sum/float64(count))
			}
		})
	}
}

func abs(x int) int { return max(x, -x) }
