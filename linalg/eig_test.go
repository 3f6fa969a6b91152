package linalg

import (
	"errors"
	"math"
	"testing"
)

// symmetricRandom returns B + Bᵀ for a Gaussian n×n B.
func symmetricRandom(n int, seed uint64) *Dense {
	b := gaussian(newRNG(seed), n, n)
	s := NewDense(n, n)
	for i := range n {
		for j := range n {
			s.Data[i*n+j] = b.Data[i*n+j] + b.Data[j*n+i]
		}
	}
	return s
}

// checkSymEig asserts AV = VΛ, VᵀV = I and descending order.
func checkSymEig(t *testing.T, a *Dense, values []float64, v *Dense) {
	t.Helper()
	n := a.Rows
	if len(values) != n || v.Rows != n || v.Cols != n {
		t.Fatalf("got %d values and %d×%d vectors for n = %d", len(values), v.Rows, v.Cols, n)
	}
	checkDescending(t, "eigenvalues", values)
	if d := orthonormalColumnsError(v); d > 1e-13*float64(n) {
		t.Errorf("VᵀV differs from I by %g", d)
	}
	vl := v.Clone()
	for i := range n {
		for j := range n {
			vl.Data[i*n+j] *= values[j]
		}
	}
	if d := maxAbsDiff(naiveMul(a, v), vl); d > 1e-13*float64(n)*max(1, maxAbs(a)) {
		t.Errorf("‖AV − VΛ‖max = %g", d)
	}
}

func TestSymEigProperties(t *testing.T) {
	x := gaussian(newRNG(20), 30, 1)
	outer := naiveMul(x, x.T()) // rank one: one eigenvalue ‖x‖², the rest zero
	inputs := map[string]*Dense{
		"1x1":     {Rows: 1, Cols: 1, Data: []float64{-2.5}},
		"2x2":     symmetricRandom(2, 21),
		"50":      symmetricRandom(50, 22),
		"129":     symmetricRandom(129, 23),
		"rankOne": outer,
		"zeros":   NewDense(5, 5),
	}
	for _, e := range testEngines(t) {
		for name, a := range inputs {
			t.Run(e.name()+"/"+name, func(t *testing.T) {
				orig := a.Clone()
				values, v, err := symEigWith(e, a)
				if err != nil {
					t.Fatal(err)
				}
				if maxAbsDiff(a, orig) != 0 {
					t.Fatal("SymEig modified its input")
				}
				checkSymEig(t, a, values, v)
			})
		}
		t.Run(e.name()+"/rankOneValues", func(t *testing.T) {
			values, _, err := symEigWith(e, outer)
			if err != nil {
				t.Fatal(err)
			}
			norm2 := naiveMul(x.T(), x).Data[0]
			if math.Abs(values[0]-norm2) > 1e-12*norm2 || math.Abs(values[1]) > 1e-12*norm2 {
				t.Fatalf("eigenvalues of xxᵀ start %v, want [%g 0 …]", values[:2], norm2)
			}
		})
	}
}

func TestSymEigKnownValues(t *testing.T) {
	a, _ := Wrap(3, 3, []float64{
		2, 1, 0,
		1, 2, 0,
		0, 0, 5,
	})
	values, v, err := SymEig(a)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5, 3, 1}
	for i, w := range want {
		if math.Abs(values[i]-w) > 1e-14 {
			t.Fatalf("eigenvalues %v, want %v", values, want)
		}
	}
	// The eigenvector of 3 is (1, 1, 0)/√2, that of 1 is (1, −1, 0)/√2.
	if c := absCos(v.Col(1), []float64{1, 1, 0}); math.Abs(c-1) > 1e-14 {
		t.Fatalf("eigenvector of 3 = %v", v.Col(1))
	}
	if c := absCos(v.Col(2), []float64{1, -1, 0}); math.Abs(c-1) > 1e-14 {
		t.Fatalf("eigenvector of 1 = %v", v.Col(2))
	}
}

func TestSymEigUsesBothTriangles(t *testing.T) {
	// Within the tolerance the two triangles may differ; the result is that of their average.
	a, _ := Wrap(2, 2, []float64{1, 2 + 1e-9, 2 - 1e-9, 1})
	values, _, err := SymEig(a)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(values[0]-3) > 1e-14 || math.Abs(values[1]+1) > 1e-14 {
		t.Fatalf("eigenvalues %v, want [3 -1]", values)
	}
}

func TestSymEigRejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		a    *Dense
		want error
	}{
		"notSquare":    {NewDense(2, 3), ErrShape},
		"empty":        {NewDense(0, 0), ErrShape},
		"nan":          {&Dense{Rows: 2, Cols: 2, Data: []float64{1, 0, 0, math.NaN()}}, ErrNonFinite},
		"inf":          {&Dense{Rows: 2, Cols: 2, Data: []float64{1, math.Inf(1), math.Inf(1), 1}}, ErrNonFinite},
		"notSymmetric": {&Dense{Rows: 2, Cols: 2, Data: []float64{1, 2, 0, 1}}, ErrNotSymmetric},
	}
	for name, c := range cases {
		if _, _, err := SymEig(c.a); !errors.Is(err, c.want) {
			t.Errorf("%s: SymEig error = %v, want %v", name, err, c.want)
		}
	}
}
