package eva

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/eva-lora/eva/linalg"

	"github.com/eva-lora/eva/internal/pattern"
)

// block describes a transformer-like block: q/k/v share an input, gate/up share another, o and down
// have their own; down's input is isotropic noise, so its EVRs are small and it should lose its
// ranks to the others.
var block = []Layer{
	{Name: "b0.q", In: 16},
	{Name: "b0.k", In: 16, SharesInputWith: "b0.q"},
	{Name: "b0.v", In: 16, SharesInputWith: "b0.q"},
	{Name: "b0.o", In: 16},
	{Name: "b0.gate", In: 16},
	{Name: "b0.up", In: 16, SharesInputWith: "b0.gate"},
	{Name: "b0.down", In: 32},
}

// blockSource draws batches of 48 rows per hook layer from fixed planted distributions.
func blockSource(t testing.TB, seed uint64) func(string, int) ([]float32, int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	dists := map[string]*planted{
		"b0.q":    newPlanted(t, rng, 16, []float64{8, 1, 0.5}, 0.05),
		"b0.o":    newPlanted(t, rng, 16, []float64{4, 3.5, 3, 2.5}, 0.05),
		"b0.gate": newPlanted(t, rng, 16, []float64{5, 4, 3, 2.8, 2.6}, 0.05),
		"b0.down": newPlanted(t, rng, 32, nil, 1),
	}
	return func(name string, _ int) ([]float32, int) {
		return dists[name].rows(rng, 48), 48
	}
}

func calibrate(t *testing.T, cfg Config, layers []Layer, source func(string, int) ([]float32, int)) *State {
	t.Helper()
	run, err := New(cfg, layers)
	if err != nil {
		t.Fatal(err)
	}
	if err := drive(t, run, source); err != nil {
		t.Fatal(err)
	}
	s, err := run.Result()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testConfig(mode SVDMode) Config {
	cfg := DefaultConfig()
	cfg.R, cfg.Alpha, cfg.SVD, cfg.Tau, cfg.MaxBatches = 2, 4, mode, 0.99, 200
	return cfg
}

// checkInvariants asserts the properties every EVA result has (reference §5).
func checkInvariants(t *testing.T, s *State) {
	t.Helper()
	cfg := s.Config
	budget, total := 0, 0
	byName := map[string]LayerState{}
	for _, l := range s.Layers {
		byName[l.Name] = l
		budget += l.R
		total += l.Rank
		if l.Rank < 0 || l.Rank > l.MaxRank || l.MaxRank < maxComponents(l.R, cfg.Rho) {
			t.Errorf("%s: rank %d outside [0, %d] (own cap %d)", l.Name, l.Rank, l.MaxRank, maxComponents(l.R, cfg.Rho))
		}
		if len(l.A) != l.Rank*l.In || len(l.EVR) != l.MaxRank || len(l.SingularValues) != l.MaxRank {
			t.Errorf("%s: A has %d values for rank %d×%d; %d EVRs, %d σ for max rank %d", l.Name, len(l.A), l.Rank, l.In, len(l.EVR), len(l.SingularValues), l.MaxRank)
		}
		for i := 1; i < len(l.EVR); i++ {
			if l.EVR[i] > l.EVR[i-1] {
				t.Errorf("%s: EVR increases at %d: %v", l.Name, i, l.EVR)
			}
		}
		a := &linalg.Dense{Rows: l.Rank, Cols: l.In, Data: l.A}
		for i := range l.Rank {
			row := a.Row(i)
			best := 0
			for j := range row {
				if math.Abs(row[j]) > math.Abs(row[best]) {
					best = j
				}
			}
			if row[best] <= 0 {
				t.Errorf("%s row %d: largest-magnitude entry %v is not positive", l.Name, i, row[best])
			}
			for j := range l.Rank {
				want := 0.0
				if i == j {
					want = 1
					if cfg.Whiten {
						want = 1 / l.SingularValues[i]
					}
				}
				if got := dot(row, a.Row(j)); math.Abs(got-want) > 1e-12*math.Max(1, want) {
					t.Errorf("%s: row %d · row %d = %v, want %v", l.Name, i, j, got, want)
				}
			}
		}
		alpha := baseAlpha(t, cfg, l.Name)
		if cfg.AdjustScaling && l.Rank > 0 && math.Abs(l.Alpha/float64(l.Rank)-alpha/float64(l.R)) > 1e-12 {
			t.Errorf("%s: alpha %v at rank %d, want alpha/rank = %v/%d", l.Name, l.Alpha, l.Rank, alpha, l.R)
		}
		if !cfg.AdjustScaling && l.Alpha != alpha {
			t.Errorf("%s: alpha %v without adjusted scaling, want %v", l.Name, l.Alpha, alpha)
		}
	}
	if total != budget {
		t.Errorf("ranks sum to %d, budget is %d", total, budget)
	}
	for _, l := range s.Layers {
		if l.Group == "" {
			continue
		}
		h := byName[l.Group]
		if l.Rank > h.Rank || h.Rank-l.Rank > 1 {
			t.Errorf("%s: rank %d vs its hook %s's %d: want hook ≥ member ≥ hook − 1", l.Name, l.Rank, h.Name, h.Rank)
		}
		for i := range l.A {
			if l.A[i] != h.A[i] {
				t.Fatalf("%s: A is not a prefix of %s's A (value %d)", l.Name, h.Name, i)
			}
		}
	}
}

// baseAlpha is the layer's alpha before scaling: its AlphaPattern value or Config.Alpha.
func baseAlpha(t *testing.T, cfg Config, name string) float64 {
	t.Helper()
	p, err := pattern.Compile("alpha pattern", cfg.AlphaPattern)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Lookup(name, cfg.Alpha)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCalibrationInvariants(t *testing.T) {
	for _, mode := range []SVDMode{Randomized, Exact, Covariance} {
		t.Run(string(mode), func(t *testing.T) {
			s := calibrate(t, testConfig(mode), block, blockSource(t, 1))
			checkInvariants(t, s)
			ranks := map[string]int{}
			for _, l := range s.Layers {
				ranks[l.Name] = l.Rank
			}
			if ranks["b0.down"] != 0 {
				t.Errorf("isotropic b0.down got rank %d, want 0 (ranks %v)", ranks["b0.down"], ranks)
			}
			if ranks["b0.q"] != 1 || ranks["b0.gate"] <= 2 || ranks["b0.o"] <= 2 {
				t.Errorf("q (one dominant direction) should keep 1 rank, gate and o (flat spectra) gain: %v", ranks)
			}
			if s.Layers[6].Name != "b0.down" || len(s.Layers[6].A) != 0 || s.Layers[6].Alpha != 0 {
				t.Errorf("rank-0 layer reported as %+v", s.Layers[6])
			}
		})
	}
}

func TestRhoOneGivesUniformRanks(t *testing.T) {
	cfg := testConfig(Exact)
	cfg.Rho = 1
	s := calibrate(t, cfg, block, blockSource(t, 2))
	checkInvariants(t, s)
	for _, l := range s.Layers {
		if l.Rank != 2 || l.Alpha != cfg.Alpha {
			t.Errorf("%s: rank %d alpha %v, want 2 and %v", l.Name, l.Rank, l.Alpha, cfg.Alpha)
		}
	}
}

func TestWhiteningOncePerLayer(t *testing.T) {
	cfg := testConfig(Exact)
	cfg.Whiten = true
	cfg.AdjustScaling = false
	s := calibrate(t, cfg, block, blockSource(t, 3))
	checkInvariants(t, s) // rows orthogonal with norms 1/√σ, members prefixes of their hook's A
	plain := cfg
	plain.Whiten = false
	p := calibrate(t, plain, block, blockSource(t, 3))
	for i, l := range s.Layers {
		for c := range l.Rank {
			root := math.Sqrt(l.SingularValues[c])
			for j := range l.In {
				if got, want := l.A[c*l.In+j], p.Layers[i].A[c*l.In+j]/root; math.Abs(got-want) > 1e-15 {
					t.Fatalf("%s[%d][%d] = %v, want %v", l.Name, c, j, got, want)
				}
			}
		}
	}
}

func TestPatternsSetPerLayerRankAndAlpha(t *testing.T) {
	cfg := testConfig(Exact)
	cfg.RankPattern = map[string]int{"o": 3, "b0.down": 1, "d.*n": 1}
	cfg.AlphaPattern = map[string]float64{`b0\.o`: 6}
	s := calibrate(t, cfg, block, blockSource(t, 4))
	checkInvariants(t, s)
	wantR := map[string]int{"b0.o": 3, "b0.down": 1, "b0.q": 2}
	for _, l := range s.Layers {
		if r, ok := wantR[l.Name]; ok && l.R != r {
			t.Errorf("%s: r %d, want %d", l.Name, l.R, r)
		}
	}
	if a := baseAlpha(t, cfg, "b0.o"); a != 6 {
		t.Errorf("alpha pattern gave b0.o alpha %v, want 6", a)
	}

	cfg.RankPattern = map[string]int{"o": 3, `b0\.o`: 4}
	if _, err := New(cfg, block); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "b0.o") {
		t.Errorf("conflicting patterns: %v", err)
	}
	cfg.RankPattern = map[string]int{"o": 3, "b0.o": 4} // the full name wins
	run, err := New(cfg, block)
	if err != nil || run.layers[3].r != 4 {
		t.Errorf("full-name pattern: %v", err)
	}
}

// Three shuffles of the same data give similar components (PEFT's consistency test: the mean
// |cos| of the absolute-valued rows over every pair of runs and shared rank > 0.75).
func TestConsistencyAcrossShuffles(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const batches, n = 20, 48
	dists := map[string]*planted{
		"b0.q":    newPlanted(t, rng, 16, []float64{8, 5, 3, 2, 1}, 0.2),
		"b0.o":    newPlanted(t, rng, 16, []float64{6, 4, 3, 2}, 0.2),
		"b0.gate": newPlanted(t, rng, 16, []float64{7, 5, 4, 3, 2}, 0.2),
		"b0.down": newPlanted(t, rng, 32, []float64{6, 3, 2}, 0.5),
	}
	pool := map[string][]float32{}
	for name, p := range dists {
		pool[name] = p.rows(rng, batches*n)
	}
	var states []*State
	for shuffle := range 3 {
		perm := rand.New(rand.NewPCG(uint64(shuffle), 0)).Perm(batches * n)
		source := func(name string, b int) ([]float32, int) {
			d := dists[name].d
			out := make([]float32, 0, n*d)
			for i := range n {
				src := perm[(b*n+i)%(batches*n)]
				out = append(out, pool[name][src*d:(src+1)*d]...)
			}
			return out, n
		}
		states = append(states, calibrate(t, testConfig(Randomized), block, source))
	}
	for li := range block {
		sum, count := 0.0, 0
		for a := range states {
			for b := a + 1; b < len(states); b++ {
				la, lb := states[a].Layers[li], states[b].Layers[li]
				for r := range min(la.Rank, lb.Rank) {
					x, y := la.A[r*la.In:(r+1)*la.In], lb.A[r*lb.In:(r+1)*lb.In]
					var xy, xx, yy float64
					for j := range x {
						xy += math.Abs(x[j]) * math.Abs(y[j])
						xx += x[j] * x[j]
						yy += y[j] * y[j]
					}
					sum += xy / math.Sqrt(xx*yy)
					count++
				}
			}
		}
		if count > 0 && sum/float64(count) <= 0.75 {
			t.Errorf("%s: mean |cos| across shuffles %v ≤ 0.75", block[li].Name, sum/float64(count))
		}
	}
}

// fakeFitted gives every hook a fitted estimator with the given EVRs (components are unused).
func fakeFitted(run *Run, evr map[string][]float64) {
	for _, h := range run.hooks {
		l := run.layers[h.layer]
		h.est.components = linalg.NewDense(h.est.k, l.In)
		h.est.evr = evr[l.Name]
	}
}

func TestRedistributionStableOrderAndBudget(t *testing.T) {
	cfg := testConfig(Exact)
	cfg.RankPattern = map[string]int{"c": 1}
	layers := []Layer{{Name: "a", In: 8}, {Name: "b", In: 8, SharesInputWith: "a"}, {Name: "c", In: 8}}
	run, err := New(cfg, layers)
	if err != nil {
		t.Fatal(err)
	}
	// Order a, c, b; budget 2+2+1 = 5; c offers round(1·2) = 2 values. Sorted: .5a .5b .4c .3a .3c
	// | .3b ...: the cut falls inside the tie at .3, which the stable sort resolves by order.
	fakeFitted(run, map[string][]float64{"a": {0.5, 0.3, 0.2, 0.1}, "c": {0.4, 0.3}})
	got := run.redistribute()
	if want := []int{2, 1, 2}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("ranks %v, want %v", got, want)
	}
	if len(run.order) != 3 || run.order[0] != 0 || run.order[1] != 2 || run.order[2] != 1 {
		t.Errorf("redistribution order %v, want [a c b] = [0 2 1]", run.order)
	}
}

func TestStoppedLayerListensAgainWhenItsRankGrows(t *testing.T) {
	cfg := testConfig(Exact)
	run, err := New(cfg, []Layer{{Name: "a", In: 8}, {Name: "b", In: 8}})
	if err != nil {
		t.Fatal(err)
	}
	h := run.hooks[0]
	copy(h.converged, []bool{true, true, false, false})
	run.ranks = []int{2, 4}
	run.updateListening()
	if got := run.Listening(); len(got) != 1 || got[0] != "b" || run.Done() {
		t.Fatalf("a converged on its 2 components: listening %v", got)
	}
	run.ranks = []int{3, 4}
	run.updateListening()
	if got := run.Listening(); len(got) != 2 {
		t.Fatalf("a assigned a 3rd, unconverged component: listening %v", got)
	}
	run.ranks = []int{0, 0}
	run.updateListening()
	if !run.Done() {
		t.Fatal("rank 0 everywhere counts as converged")
	}
	if err := run.Observe("a", make([]float32, 8*8), 8); err == nil {
		t.Error("observing a stopped layer succeeded")
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	good := []Layer{{Name: "a", In: 8}, {Name: "b", In: 8, SharesInputWith: "a"}}
	cases := []struct {
		name   string
		edit   func(*Config)
		layers []Layer
		want   string
	}{
		{"rho<1", func(c *Config) { c.Rho = 0.5 }, good, "rho"},
		{"rho NaN", func(c *Config) { c.Rho = math.NaN() }, good, "rho"},
		{"tau<0", func(c *Config) { c.Tau = -0.1 }, good, "tau"},
		{"tau>1", func(c *Config) { c.Tau = 1.01 }, good, "tau"},
		{"tau NaN", func(c *Config) { c.Tau = math.NaN() }, good, "tau"},
		{"r=0", func(c *Config) { c.R = 0 }, good, "r = 0"},
		{"alpha Inf", func(c *Config) { c.Alpha = math.Inf(1) }, good, "alpha"},
		{"mode", func(c *Config) { c.SVD = "qr" }, good, "qr"},
		{"r·rho > in", func(c *Config) { c.R = 5 }, good, "layer a"},
		{"group max > in", func(c *Config) { c.RankPattern = map[string]int{"a": 1} }, []Layer{{Name: "a", In: 3}, {Name: "b", In: 3, SharesInputWith: "a"}}, "layer b"},
		{"bad regex", func(c *Config) { c.RankPattern = map[string]int{"(": 2} }, good, "("},
		{"no layers", nil, nil, "no target layers"},
		{"empty name", nil, []Layer{{Name: "", In: 8}}, "empty name"},
		{"zero width", nil, []Layer{{Name: "a", In: 0}}, "layer a"},
		{"twice", nil, []Layer{{Name: "a", In: 8}, {Name: "a", In: 8}}, "layer a listed twice"},
		{"later group", nil, []Layer{{Name: "b", In: 8, SharesInputWith: "a"}, {Name: "a", In: 8}}, "layer b"},
		{"chained group", nil, []Layer{{Name: "a", In: 8}, {Name: "b", In: 8, SharesInputWith: "a"}, {Name: "c", In: 8, SharesInputWith: "b"}}, "layer c"},
		{"group width", nil, []Layer{{Name: "a", In: 8}, {Name: "b", In: 9, SharesInputWith: "a"}}, "layer b"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		cfg.R = 2
		if c.edit != nil {
			c.edit(&cfg)
		}
		_, err := New(cfg, c.layers)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrConfig mentioning %q", c.name, err, c.want)
		}
	}
}

// infAt returns 8×4 finite rows with -Inf at index i.
func infAt(i int) []float32 {
	rows := make([]float32, 8*4)
	for j := range rows {
		rows[j] = float32(j) - 3.5
	}
	rows[i] = float32(math.Inf(-1))
	return rows
}

func TestObserveRejectsBadRows(t *testing.T) {
	run, err := New(testConfig(Exact), []Layer{{Name: "a", In: 4}, {Name: "b", In: 4, SharesInputWith: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]float32, 8*4)
	rows[13] = float32(math.NaN())
	for _, c := range []struct {
		layer string
		rows  []float32
		n     int
		want  string
	}{
		{"x", rows, 8, "x: not a target layer"},
		{"b", rows, 8, "b: it shares its input with a"},
		{"a", rows, 7, "a: 32 values for 7 rows"},
		{"a", rows, 8, "a: row 3 column 1 is NaN"},
		{"a", infAt(22), 8, "a: row 5 column 2 is -Inf"},
	} {
		if err := run.Observe(c.layer, c.rows, c.n); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Observe(%s, %d rows): %v, want %q", c.layer, c.n, err, c.want)
		}
	}
	if run.hooks[0].est.seen != 0 {
		t.Error("rejected rows were absorbed")
	}
}

func TestBatchCapNamesLayersWithTooFewRows(t *testing.T) {
	cfg := testConfig(Exact) // 4 components per layer
	cfg.MaxBatches = 5
	run, err := New(cfg, []Layer{{Name: "short", In: 8}, {Name: "fine", In: 8}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	p := newPlanted(t, rng, 8, []float64{3, 2, 1, 0.5}, 0.1)
	err = drive(t, run, func(name string, _ int) ([]float32, int) {
		if name == "short" {
			return p.rows(rng, 3), 3
		}
		return p.rows(rng, 40), 40
	})
	if !errors.Is(err, ErrNotConverged) || !strings.Contains(err.Error(), "short never received enough rows") ||
		!strings.Contains(err.Error(), "5 batches were skipped, the last with 3 rows") || run.Batches() != 5 {
		t.Fatalf("error %v after %d batches", err, run.Batches())
	}
	if _, err := run.Result(); !errors.Is(err, ErrNotConverged) {
		t.Errorf("Result before convergence: %v", err)
	}
}

func TestBatchCapNamesUnconvergedLayers(t *testing.T) {
	cfg := testConfig(Exact)
	cfg.MaxBatches, cfg.Tau = 4, 1 // cosines of noisy estimates never reach exactly 1
	run, err := New(cfg, []Layer{{Name: "a", In: 8}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	p := newPlanted(t, rng, 8, nil, 1)
	err = drive(t, run, func(string, int) ([]float32, int) { return p.rows(rng, 20), 20 })
	if !errors.Is(err, ErrNotConverged) || !strings.Contains(err.Error(), "a not converged after 4 steps") {
		t.Fatalf("error %v", err)
	}
	if p := run.Progress(); len(p) != 1 || p[0] != (LayerProgress{Name: "a", Listening: true, Steps: 4, Samples: 80, Rank: 2, Converged: 0}) {
		t.Errorf("progress %+v", p)
	}
}

// Covariance mode accumulates batches smaller than k instead of skipping them.
func TestCovarianceModeUsesSmallBatches(t *testing.T) {
	cfg := testConfig(Covariance)
	cfg.Tau = 0
	run, err := New(cfg, []Layer{{Name: "a", In: 8}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	p := newPlanted(t, rng, 8, []float64{3, 2, 1, 0.5}, 0.1)
	if err := drive(t, run, func(string, int) ([]float32, int) { return p.rows(rng, 3), 3 }); err != nil {
		t.Fatal(err)
	}
	s, err := run.Result()
	if err != nil {
		t.Fatal(err)
	}
	if s.Layers[0].Samples != int64(3*s.Batches) || s.Layers[0].Steps != s.Batches-1 {
		t.Errorf("%d samples in %d steps over %d batches of 3 rows", s.Layers[0].Samples, s.Layers[0].Steps, s.Batches)
	}
}

// TestMemoryBoundKeepsResults: with a memory bound so small that every Observe runs its step at
// once and steps run one after another, the calibration gives the same ranks, batches and
// components (to rounding) as with the batch's steps side by side.
func TestMemoryBoundKeepsResults(t *testing.T) {
	for _, mode := range []SVDMode{Randomized, Exact, Covariance} {
		t.Run(string(mode), func(t *testing.T) {
			wide := calibrate(t, testConfig(mode), block, blockSource(t, 1))
			saved := fitMemory
			fitMemory = 1
			defer func() { fitMemory = saved }()
			tight := calibrate(t, testConfig(mode), block, blockSource(t, 1))
			if wide.Batches != tight.Batches {
				t.Fatalf("%d batches side by side, %d one at a time", wide.Batches, tight.Batches)
			}
			for i, l := range wide.Layers {
				o := tight.Layers[i]
				if l.Rank != o.Rank || len(l.A) != len(o.A) {
					t.Fatalf("%s: rank %d side by side, %d one at a time", l.Name, l.Rank, o.Rank)
				}
				for j := range l.A {
					if math.Abs(l.A[j]-o.A[j]) > 1e-9 {
						t.Fatalf("%s: A[%d] %v side by side, %v one at a time", l.Name, j, l.A[j], o.A[j])
					}
				}
			}
		})
	}
}
