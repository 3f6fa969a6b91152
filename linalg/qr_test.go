package linalg

import (
	"errors"
	"math"
	"testing"
)

// checkQR asserts the defining properties of a thin QR of a.
func checkQR(t *testing.T, a, q, r *Dense) {
	t.Helper()
	m, n := a.Rows, a.Cols
	if q.Rows != m || q.Cols != n || r.Rows != n || r.Cols != n {
		t.Fatalf("shapes Q %d×%d, R %d×%d for %d×%d input", q.Rows, q.Cols, r.Rows, r.Cols, m, n)
	}
	if d := orthonormalColumnsError(q); d > 1e-13*float64(m) {
		t.Errorf("QᵀQ differs from I by %g", d)
	}
	if d := maxAbsDiff(naiveMul(q, r), a); d > 1e-13*float64(m)*max(1, maxAbs(a)) {
		t.Errorf("QR differs from A by %g", d)
	}
	for i := range n {
		if r.At(i, i) < 0 {
			t.Errorf("R[%d][%d] = %g is negative", i, i, r.At(i, i))
		}
		for j := range i {
			if r.At(i, j) != 0 {
				t.Errorf("R[%d][%d] = %g below the diagonal", i, j, r.At(i, j))
			}
		}
	}
}

func TestQRProperties(t *testing.T) {
	rng := newRNG(10)
	rankDeficient := gaussian(rng, 40, 6)
	for i := range 40 { // column 4 = column 1 + column 2, column 5 = 0
		rankDeficient.Set(i, 4, rankDeficient.At(i, 1)+rankDeficient.At(i, 2))
		rankDeficient.Set(i, 5, 0)
	}
	inputs := map[string]*Dense{
		"1x1":           {Rows: 1, Cols: 1, Data: []float64{-3}},
		"5x3":           gaussian(rng, 5, 3),
		"square64":      gaussian(rng, 64, 64),
		"tall300x40":    gaussian(rng, 300, 40),
		"tall400x130":   gaussian(rng, 400, 130), // wider than narrowQR: LAPACK on OpenBLAS
		"rankDeficient": rankDeficient,
		"zeros":         NewDense(7, 4),
	}
	for _, e := range testEngines(t) {
		for name, a := range inputs {
			t.Run(e.name()+"/"+name, func(t *testing.T) {
				orig := a.Clone()
				q, r, err := qrWith(e, a)
				if err != nil {
					t.Fatal(err)
				}
				if maxAbsDiff(a, orig) != 0 {
					t.Fatal("QR modified its input")
				}
				checkQR(t, a, q, r)
			})
		}
	}
}

func TestQRKnownValues(t *testing.T) {
	// A = [[3, 1], [4, 2]]: the first column has norm 5 and direction (0.6, 0.8), so by hand
	// R = [[5, 11/5], [0, 2/5]].
	a, _ := Wrap(2, 2, []float64{3, 1, 4, 2})
	q, r, err := QR(a)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5, 11.0 / 5, 0, 2.0 / 5}
	for i, w := range want {
		if math.Abs(r.Data[i]-w) > 1e-14 {
			t.Fatalf("R = %v, want %v", r.Data, want)
		}
	}
	if math.Abs(q.At(0, 0)-0.6) > 1e-15 || math.Abs(q.At(1, 0)-0.8) > 1e-15 {
		t.Fatalf("first column of Q = %v, want [0.6 0.8]", q.Col(0))
	}
}

func TestOrthonormalizeIsQ(t *testing.T) {
	a := gaussian(newRNG(11), 50, 8)
	q, _, err := QR(a)
	if err != nil {
		t.Fatal(err)
	}
	o, err := Orthonormalize(a)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(o, q); d != 0 {
		t.Fatalf("Orthonormalize differs from QR's Q by %g", d)
	}
}

func TestQRRejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		a    *Dense
		want error
	}{
		"wide":     {NewDense(2, 3), ErrShape},
		"empty":    {NewDense(0, 0), ErrShape},
		"nil":      {nil, ErrShape},
		"badData":  {&Dense{Rows: 2, Cols: 2, Data: []float64{1}}, ErrShape},
		"nan":      {&Dense{Rows: 2, Cols: 1, Data: []float64{1, math.NaN()}}, ErrNonFinite},
		"infinite": {&Dense{Rows: 2, Cols: 1, Data: []float64{math.Inf(-1), 1}}, ErrNonFinite},
	}
	for name, c := range cases {
		if _, _, err := QR(c.a); !errors.Is(err, c.want) {
			t.Errorf("%s: QR error = %v, want %v", name, err, c.want)
		}
		if _, err := Orthonormalize(c.a); !errors.Is(err, c.want) {
			t.Errorf("%s: Orthonormalize error = %v, want %v", name, err, c.want)
		}
	}
}
