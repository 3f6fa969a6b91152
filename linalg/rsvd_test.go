package linalg

import (
	"errors"
	"math"
	"testing"
)

// geometric returns n values scale·ratio^i.
func geometric(n int, scale, ratio float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = scale * math.Pow(ratio, float64(i))
	}
	return s
}

func TestRandomizedSVDRecoversDecayingSpectrum(t *testing.T) {
	const k = 10
	for _, e := range testEngines(t) {
		for _, shape := range [][2]int{{300, 120}, {120, 300}} {
			sigma := geometric(120, 100, 0.6)
			a, wantU, wantVt := withSpectrum(t, newRNG(60), shape[0], shape[1], sigma)
			u, s, vt, err := randomizedSVDWith(e, a, k, RandomizedOptions{Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if u.Rows != shape[0] || u.Cols != k || len(s) != k || vt.Rows != k || vt.Cols != shape[1] {
				t.Fatalf("shapes U %d×%d, s %d, Vᵀ %d×%d", u.Rows, u.Cols, len(s), vt.Rows, vt.Cols)
			}
			if d := orthonormalColumnsError(u); d > 1e-12 {
				t.Errorf("%s %v: UᵀU differs from I by %g", e.name(), shape, d)
			}
			if d := orthonormalRowsError(vt); d > 1e-12 {
				t.Errorf("%s %v: VᵀV differs from I by %g", e.name(), shape, d)
			}
			for i := range k {
				if rel := math.Abs(s[i]-sigma[i]) / sigma[i]; rel > 1e-6 {
					t.Errorf("%s %v: σ%d = %g, want %g (relative error %g)", e.name(), shape, i, s[i], sigma[i], rel)
				}
				if c := absCos(u.Col(i), wantU.Col(i)); c < 1-1e-6 {
					t.Errorf("%s %v: left vector %d |cos| = %v", e.name(), shape, i, c)
				}
				if c := absCos(vt.Row(i), wantVt.Row(i)); c < 1-1e-6 {
					t.Errorf("%s %v: right vector %d |cos| = %v", e.name(), shape, i, c)
				}
			}
		}
	}
}

// Power iterations must sharpen the estimate on a slowly decaying spectrum (σᵢ = 1/(i+1)).
func TestRandomizedSVDPowerIterationsHelp(t *testing.T) {
	sigma := make([]float64, 100)
	for i := range sigma {
		sigma[i] = 1 / float64(i+1)
	}
	a, _, _ := withSpectrum(t, newRNG(61), 200, 100, sigma)
	worstError := func(iters int) float64 {
		_, s, _, err := RandomizedSVD(a, 5, RandomizedOptions{PowerIters: iters, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range s {
			worst = max(worst, math.Abs(s[i]-sigma[i])/sigma[i])
		}
		return worst
	}
	none, four := worstError(-1), worstError(4)
	t.Logf("worst relative error of the top 5 singular values: %g without, %g with 4 power iterations", none, four)
	if none < 1e-2 || four > none/10 {
		t.Fatalf("power iterations did not help enough: error %g without, %g with", none, four)
	}
}

func TestRandomizedSVDDeterministic(t *testing.T) {
	a := gaussian(newRNG(62), 90, 70)
	for _, e := range testEngines(t) {
		u1, s1, vt1, err1 := randomizedSVDWith(e, a, 6, RandomizedOptions{Seed: 11})
		u2, s2, vt2, err2 := randomizedSVDWith(e, a, 6, RandomizedOptions{Seed: 11})
		u3, _, _, err3 := randomizedSVDWith(e, a, 6, RandomizedOptions{Seed: 12})
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		if maxAbsDiff(u1, u2) != 0 || maxAbsDiff(vt1, vt2) != 0 || !equalSlices(s1, s2) {
			t.Errorf("%s: equal seeds gave different results", e.name())
		}
		if maxAbsDiff(u1, u3) == 0 {
			t.Errorf("%s: different seeds gave identical results; the seed is ignored", e.name())
		}
	}
}

func equalSlices(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRandomizedSVDFullRankIsExact(t *testing.T) {
	a := gaussian(newRNG(63), 12, 5)
	u, s, vt, err := SVD(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{5, 9} {
		ru, rs, rvt, err := RandomizedSVD(a, k, RandomizedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if maxAbsDiff(ru, u) != 0 || maxAbsDiff(rvt, vt) != 0 || !equalSlices(rs, s) {
			t.Errorf("k = %d ≥ min(m, n) did not return the exact SVD", k)
		}
	}
}

func TestRandomizedSVDEdgeCases(t *testing.T) {
	// Rank 3 with k = 5: three exact values, then zeros; oversampling capped at min(m, n).
	sigma := []float64{9, 4, 1}
	a, _, _ := withSpectrum(t, newRNG(64), 40, 12, sigma)
	u, s, vt, err := RandomizedSVD(a, 5, RandomizedOptions{Columns: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range sigma {
		if math.Abs(s[i]-w) > 1e-12 {
			t.Errorf("rank 3: σ%d = %g, want %g", i, s[i], w)
		}
	}
	if s[3] > 1e-12 || s[4] > 1e-12 {
		t.Errorf("rank 3: σ3, σ4 = %g, %g, want 0", s[3], s[4])
	}
	if d := orthonormalColumnsError(u); d > 1e-12 {
		t.Errorf("rank 3: UᵀU differs from I by %g", d)
	}
	if d := maxAbsDiff(reconstruct(u, s, vt), a); d > 1e-12 {
		t.Errorf("rank 3: reconstruction error %g", d)
	}

	// The zero matrix: zero values, orthonormal vectors, no NaN.
	u, s, _, err = RandomizedSVD(NewDense(20, 10), 3, RandomizedOptions{Columns: 3})
	if err != nil {
		t.Fatal(err)
	}
	if maxAbs(&Dense{Rows: 1, Cols: 3, Data: s}) != 0 || orthonormalColumnsError(u) > 1e-14 {
		t.Errorf("zero matrix: s = %v, UᵀU error %g", s, orthonormalColumnsError(u))
	}

	// 1×1 is its own SVD.
	_, s, _, err = RandomizedSVD(&Dense{Rows: 1, Cols: 1, Data: []float64{-4}}, 1, RandomizedOptions{})
	if err != nil || len(s) != 1 || s[0] != 4 {
		t.Errorf("1×1: s = %v, err = %v; want [4]", s, err)
	}
}

func TestRandomizedSVDRejectsBadInput(t *testing.T) {
	a := gaussian(newRNG(65), 10, 8)
	nan := a.Clone()
	nan.Data[17] = math.NaN()
	cases := map[string]struct {
		a    *Dense
		k    int
		opts RandomizedOptions
		want error
	}{
		"kZero":        {a, 0, RandomizedOptions{}, ErrArgument},
		"kNegative":    {a, -2, RandomizedOptions{}, ErrArgument},
		"fewColumns":   {a, 4, RandomizedOptions{Columns: 3}, ErrArgument},
		"nan":          {nan, 2, RandomizedOptions{}, ErrNonFinite},
		"empty":        {NewDense(0, 5), 2, RandomizedOptions{}, ErrShape},
		"inconsistent": {&Dense{Rows: 3, Cols: 3, Data: make([]float64, 8)}, 2, RandomizedOptions{}, ErrShape},
	}
	for name, c := range cases {
		if _, _, _, err := RandomizedSVD(c.a, c.k, c.opts); !errors.Is(err, c.want) {
			t.Errorf("%s: error = %v, want %v", name, err, c.want)
		}
	}
}

// A sketch of at least half the smaller side is not drawn: RandomizedSVD returns the exact SVD's k
// leading triplets (cheaper, and what a sketch approximates); below that it sketches.
func TestRandomizedSVDWideSketchIsExact(t *testing.T) {
	a := gaussian(newRNG(64), 60, 40)
	u, s, vt, err := SVD(a)
	if err != nil {
		t.Fatal(err)
	}
	ru, rs, rvt, err := RandomizedSVD(a, 10, RandomizedOptions{Seed: 5}) // q = 20 = 40/2
	if err != nil {
		t.Fatal(err)
	}
	if ru.Cols != 10 || len(rs) != 10 || rvt.Rows != 10 || !equalSlices(rs, s[:10]) {
		t.Fatalf("k = 10, q = 20: got %d/%d/%d triplets, values %v, want the exact %v", ru.Cols, len(rs), rvt.Rows, rs, s[:10])
	}
	for i := range 60 {
		for j := range 10 {
			if ru.Row(i)[j] != u.Row(i)[j] {
				t.Fatalf("u[%d][%d] differs from the exact SVD's", i, j)
			}
		}
	}
	for i := range 10 {
		if !equalSlices(rvt.Row(i), vt.Row(i)) {
			t.Fatalf("vt row %d differs from the exact SVD's", i)
		}
	}
	_, rs9, _, err := RandomizedSVD(a, 9, RandomizedOptions{Seed: 5}) // q = 18 < 20: a sketch
	if err != nil {
		t.Fatal(err)
	}
	if equalSlices(rs9, s[:9]) {
		t.Error("k = 9 (q = 18) gave the exact values bit for bit; expected a sketch")
	}
}
