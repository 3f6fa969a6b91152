package linalg

import (
	"errors"
	"math"
	"testing"
)

// checkSVD asserts the defining properties of a thin SVD of a.
func checkSVD(t *testing.T, a, u *Dense, s []float64, vt *Dense) {
	t.Helper()
	m, n := a.Rows, a.Cols
	p := min(m, n)
	if u.Rows != m || u.Cols != p || len(s) != p || vt.Rows != p || vt.Cols != n {
		t.Fatalf("shapes U %d×%d, s %d, Vᵀ %d×%d for %d×%d input", u.Rows, u.Cols, len(s), vt.Rows, vt.Cols, m, n)
	}
	checkDescending(t, "singular values", s)
	if s[p-1] < 0 {
		t.Errorf("negative singular value %g", s[p-1])
	}
	tol := 1e-13 * float64(max(m, n))
	if d := orthonormalColumnsError(u); d > tol {
		t.Errorf("UᵀU differs from I by %g", d)
	}
	if d := orthonormalRowsError(vt); d > tol {
		t.Errorf("VᵀV differs from I by %g", d)
	}
	if d := maxAbsDiff(reconstruct(u, s, vt), a); d > tol*max(1, maxAbs(a)) {
		t.Errorf("‖UΣVᵀ − A‖max = %g", d)
	}
}

func TestSVDProperties(t *testing.T) {
	rng := newRNG(30)
	rankDeficient, _, _ := withSpectrum(t, rng, 60, 25, []float64{4, 2, 1})
	inputs := map[string]*Dense{
		"1x1":           {Rows: 1, Cols: 1, Data: []float64{-3}},
		"row":           gaussian(rng, 1, 9),
		"column":        gaussian(rng, 9, 1),
		"tall7x3":       gaussian(rng, 7, 3),
		"wide3x7":       gaussian(rng, 3, 7),
		"tall100x40":    gaussian(rng, 100, 40),
		"wide40x100":    gaussian(rng, 40, 100),
		"rankDeficient": rankDeficient,
		"zeros":         NewDense(6, 4),
	}
	for _, e := range testEngines(t) {
		for name, a := range inputs {
			t.Run(e.name()+"/"+name, func(t *testing.T) {
				orig := a.Clone()
				u, s, vt, err := svdWith(e, a)
				if err != nil {
					t.Fatal(err)
				}
				if maxAbsDiff(a, orig) != 0 {
					t.Fatal("SVD modified its input")
				}
				checkSVD(t, a, u, s, vt)
			})
		}
	}
}

func TestSVDRecoversKnownSpectrum(t *testing.T) {
	sigma := []float64{10, 7, 3, 1, 0.5, 0.1}
	for _, e := range testEngines(t) {
		for _, shape := range [][2]int{{80, 6}, {6, 80}, {50, 30}} {
			a, wantU, wantVt := withSpectrum(t, newRNG(31), shape[0], shape[1], sigma)
			u, s, vt, err := svdWith(e, a)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range sigma {
				if math.Abs(s[i]-w) > 1e-12*sigma[0] {
					t.Fatalf("%s %v: singular values %v, want %v", e.name(), shape, s[:len(sigma)], sigma)
				}
				if c := absCos(u.Col(i), wantU.Col(i)); c < 1-1e-10 {
					t.Errorf("%s %v: left vector %d has |cos| %v with the truth", e.name(), shape, i, c)
				}
				if c := absCos(vt.Row(i), wantVt.Row(i)); c < 1-1e-10 {
					t.Errorf("%s %v: right vector %d has |cos| %v with the truth", e.name(), shape, i, c)
				}
			}
			for _, v := range s[len(sigma):] {
				if v > 1e-12*sigma[0] {
					t.Fatalf("%s %v: rank-6 matrix has extra singular value %g", e.name(), shape, v)
				}
			}
		}
	}
}

func TestSVDRejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		a    *Dense
		want error
	}{
		"empty":   {NewDense(3, 0), ErrShape},
		"nil":     {nil, ErrShape},
		"badData": {&Dense{Rows: 1, Cols: 2, Data: []float64{1, 2, 3}}, ErrShape},
		"nan":     {&Dense{Rows: 1, Cols: 2, Data: []float64{1, math.NaN()}}, ErrNonFinite},
		"inf":     {&Dense{Rows: 2, Cols: 1, Data: []float64{math.Inf(1), 1}}, ErrNonFinite},
	}
	for name, c := range cases {
		if _, _, _, err := SVD(c.a); !errors.Is(err, c.want) {
			t.Errorf("%s: SVD error = %v, want %v", name, err, c.want)
		}
	}
}
