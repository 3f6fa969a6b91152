package eva

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

func TestIncrementalMomentsMatchDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const d = 7
	sizes := []int{5, 1, 13, 2, 40}
	var all []float32
	var mean, variance []float64
	var seen int64
	for _, n := range sizes {
		rows := make([]float32, n*d)
		for i := range rows {
			rows[i] = float32(100 + 5*rng.NormFloat64() + float64(i%d)) // large mean: cancellation matters
		}
		all = append(all, rows...)
		b := centreBatch(rows, n, d, make([]float64, n*d))
		mean, variance = combineMoments(mean, variance, seen, b)
		seen += int64(n)

		// Direct two-pass mean and (population) variance of every row so far.
		total := len(all) / d
		for j := range d {
			m := 0.0
			for i := range total {
				m += float64(all[i*d+j])
			}
			m /= float64(total)
			v := 0.0
			for i := range total {
				dv := float64(all[i*d+j]) - m
				v += dv * dv
			}
			v /= float64(total)
			if relErr(mean[j], m) > 1e-14 || relErr(variance[j], v) > 1e-12 {
				t.Fatalf("after %d rows, column %d: mean %v var %v, direct %v %v", total, j, mean[j], variance[j], m, v)
			}
		}
	}
}

func TestCentreBatchCentresOnBatchMean(t *testing.T) {
	rows := []float32{1, 10, 3, 20, 5, 60}
	x := make([]float64, 6)
	b := centreBatch(rows, 3, 2, x)
	want := []float64{-2, -20, 0, -10, 2, 30}
	for i := range want {
		if x[i] != want[i] {
			t.Fatalf("centred %v, want %v", x, want)
		}
	}
	if b.mean[0] != 3 || b.mean[1] != 30 || b.unnorm[0] != 8 || b.unnorm[1] != 1400 {
		t.Fatalf("moments %+v", b)
	}
}

func TestMaxComponentsRoundsHalfToEven(t *testing.T) {
	cases := []struct {
		r    int
		rho  float64
		want int
	}{{3, 1.5, 4}, {5, 1.5, 8}, {1, 2.5, 2}, {8, 2, 16}, {7, 1, 7}, {3, 1.1, 3}}
	for _, c := range cases {
		if got := maxComponents(c.r, c.rho); got != c.want {
			t.Errorf("round(%d·%g) = %d, want %d", c.r, c.rho, got, c.want)
		}
	}
}

func TestFlipSignsMakesLargestEntryPositiveFirstOnTies(t *testing.T) {
	v := &linalg.Dense{Rows: 3, Cols: 3, Data: []float64{
		0.1, -0.9, 0.2, // largest is negative: flip
		-0.5, 0.5, 0.1, // tie on |0.5|: the first (negative) decides
		0.3, 0.6, -0.2, // already positive: keep
	}}
	flipSigns(v)
	want := []float64{-0.1, 0.9, -0.2, 0.5, -0.5, -0.1, 0.3, 0.6, -0.2}
	for i := range want {
		if v.Data[i] != want[i] {
			t.Fatalf("flipped %v, want %v", v.Data, want)
		}
	}
}

func TestCosinesPerRow(t *testing.T) {
	a := &linalg.Dense{Rows: 2, Cols: 2, Data: []float64{1, 0, 3, 4}}
	b := &linalg.Dense{Rows: 2, Cols: 2, Data: []float64{-2, 0, 4, 3}}
	got := cosines(a, b)
	if got[0] != -1 || math.Abs(got[1]-24.0/25) > 1e-15 {
		t.Fatalf("cosines %v, want [-1 0.96]", got)
	}
}

// With k = d nothing is truncated, so the incremental PCA over several batches equals the PCA of
// all rows at once.
func TestIncrementalPCAFullRankEqualsBatchPCA(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const d = 6
	p := newPlanted(t, rng, d, []float64{5, 3, 2, 1.5, 1, 0.5}, 0.1)
	est := newEstimator(Exact, d, d, 0)
	var all []float32
	for _, n := range []int{10, 7, 25, 6} {
		rows := p.rows(rng, n)
		all = append(all, rows...)
		if stepped, err := est.fit(testEnv(), rows, n); err != nil || !stepped {
			t.Fatalf("fit %d rows: stepped %v, %v", n, stepped, err)
		}
	}
	vt, s, evr := exactPCA(t, all, len(all)/d, d)
	for i := range d {
		if c := dot(est.components.Row(i), vt.Row(i)); c < 1-1e-10 {
			t.Errorf("component %d: cosine with batch PCA %v", i, c)
		}
		if relErr(est.singular[i], s[i]) > 1e-10 || math.Abs(est.evr[i]-evr[i]) > 1e-12 {
			t.Errorf("component %d: σ %v EVR %v, batch PCA %v %v", i, est.singular[i], est.evr[i], s[i], evr[i])
		}
	}
	if est.seen != int64(len(all)/d) {
		t.Errorf("seen %d rows, want %d", est.seen, len(all)/d)
	}
}

// Covariance mode is the exact PCA of all rows, even with k < d and batches smaller than k.
func TestCovarianceModeEqualsBatchPCA(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const d, k = 12, 4
	p := newPlanted(t, rng, d, []float64{6, 4, 3, 2, 1}, 0.3)
	est := newEstimator(Covariance, k, d, 0)
	var all []float32
	for _, n := range []int{2, 30, 1, 17} {
		rows := p.rows(rng, n)
		all = append(all, rows...)
		stepped, err := est.fit(testEnv(), rows, n)
		if err != nil {
			t.Fatal(err)
		}
		if wantStep := len(all)/d >= k; stepped != wantStep {
			t.Fatalf("after %d rows stepped = %v", len(all)/d, stepped)
		}
	}
	vt, s, evr := exactPCA(t, all, len(all)/d, d)
	for i := range k {
		if c := dot(est.components.Row(i), vt.Row(i)); c < 1-1e-10 {
			t.Errorf("component %d: cosine with batch PCA %v", i, c)
		}
		if relErr(est.singular[i], s[i]) > 1e-9 || math.Abs(est.evr[i]-evr[i]) > 1e-12 {
			t.Errorf("component %d: σ %v EVR %v, batch PCA %v %v", i, est.singular[i], est.evr[i], s[i], evr[i])
		}
	}
}

// On data whose spectrum has a clear gap after k, the randomized and exact steps agree closely, and
// the incremental PCA with k < d recovers the planted directions.
func TestRandomizedMatchesExactAndRecoversPlantedDirections(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const d, k = 40, 3
	p := newPlanted(t, rng, d, []float64{10, 6, 3}, 0.05)
	exact, rand := newEstimator(Exact, k, d, 0), newEstimator(Randomized, k, d, 42)
	for range 6 {
		rows := p.rows(rng, 64)
		for _, e := range []*estimator{exact, rand} {
			if _, err := e.fit(testEnv(), rows, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range k {
		if c := dot(exact.components.Row(i), rand.components.Row(i)); c < 1-1e-9 {
			t.Errorf("component %d: randomized vs exact cosine %v", i, c)
		}
		if relErr(rand.singular[i], exact.singular[i]) > 1e-9 {
			t.Errorf("component %d: σ randomized %v exact %v", i, rand.singular[i], exact.singular[i])
		}
		if c := math.Abs(dot(exact.components.Row(i), p.dirs.Row(i))); c < 0.99 {
			t.Errorf("component %d: |cosine| with planted direction %v", i, c)
		}
	}
}

func TestIncrementalSkipsBatchesSmallerThanK(t *testing.T) {
	est := newEstimator(Exact, 3, 4, 0)
	stepped, err := est.fit(testEnv(), make([]float32, 2*4), 2)
	if err != nil || stepped || est.seen != 0 || est.fitted() {
		t.Fatalf("2 rows for 3 components: stepped %v, err %v, seen %d", stepped, err, est.seen)
	}
}

func TestCovarianceEmptyBatchIsNoStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	p := newPlanted(t, rng, 5, []float64{2, 1}, 0.1)
	est := newEstimator(Covariance, 2, 5, 0)
	if stepped, err := est.fit(testEnv(), p.rows(rng, 10), 10); !stepped || err != nil {
		t.Fatalf("10 rows: stepped %v, %v", stepped, err)
	}
	before := est.components
	if stepped, err := est.fit(testEnv(), nil, 0); stepped || err != nil || est.components != before || est.seen != 10 {
		t.Fatalf("empty batch: stepped %v, err %v, seen %d", stepped, err, est.seen)
	}
}
