package linalg

import (
	"errors"
	"testing"
)

func TestWrapChecksLength(t *testing.T) {
	if _, err := Wrap(2, 3, make([]float64, 5)); !errors.Is(err, ErrShape) {
		t.Fatalf("Wrap(2, 3, 5 values) error = %v, want ErrShape", err)
	}
	if _, err := Wrap(-1, 0, nil); !errors.Is(err, ErrShape) {
		t.Fatalf("Wrap(-1, 0) error = %v, want ErrShape", err)
	}
	data := []float64{1, 2, 3, 4, 5, 6}
	a, err := Wrap(2, 3, data)
	if err != nil {
		t.Fatal(err)
	}
	a.Set(1, 2, 7)
	if data[5] != 7 || a.At(0, 1) != 2 {
		t.Fatalf("Wrap must share data row-major: data %v, At(0,1) = %g", data, a.At(0, 1))
	}
}

func TestTransposeAndAccessors(t *testing.T) {
	a, _ := Wrap(2, 3, []float64{1, 2, 3, 4, 5, 6})
	at := a.T()
	want := []float64{1, 4, 2, 5, 3, 6}
	if at.Rows != 3 || at.Cols != 2 {
		t.Fatalf("T shape %d×%d, want 3×2", at.Rows, at.Cols)
	}
	for i, v := range want {
		if at.Data[i] != v {
			t.Fatalf("T data %v, want %v", at.Data, want)
		}
	}
	if got := a.Col(1); got[0] != 2 || got[1] != 5 {
		t.Fatalf("Col(1) = %v, want [2 5]", got)
	}
	if got := a.Row(1); got[0] != 4 || got[2] != 6 {
		t.Fatalf("Row(1) = %v, want [4 5 6]", got)
	}
	c := a.Clone()
	c.Data[0] = 9
	if a.Data[0] != 1 {
		t.Fatal("Clone shares storage with its source")
	}
	// A transpose larger than one tile exercises the blocked loop's edges.
	big := gaussian(newRNG(1), 70, 45)
	bt := big.T()
	for i := range big.Rows {
		for j := range big.Cols {
			if bt.At(j, i) != big.At(i, j) {
				t.Fatalf("T of 70×45: (%d,%d) differs", j, i)
			}
		}
	}
}

func TestProductsMatchNaive(t *testing.T) {
	rng := newRNG(2)
	a, b := gaussian(rng, 37, 21), gaussian(rng, 21, 13)
	want := naiveMul(a, b)
	for _, e := range testEngines(t) {
		t.Run(e.name(), func(t *testing.T) {
			cases := []struct {
				name           string
				transA, transB bool
				x, y           *Dense
			}{
				{"AB", false, false, a, b},
				{"TMul", true, false, a.T(), b},
				{"MulT", false, true, a, b.T()},
				{"both", true, true, a.T(), b.T()},
			}
			for _, c := range cases {
				got := NewDense(37, 13)
				gemmInto(e, c.transA, c.transB, 37, 13, 21, c.x, c.y, got)
				if d := maxAbsDiff(got, want); d > 1e-12 {
					t.Errorf("%s: max diff %g from naive product", c.name, d)
				}
			}
		})
	}
}

func TestPublicProducts(t *testing.T) {
	rng := newRNG(3)
	a, b := gaussian(rng, 9, 4), gaussian(rng, 4, 6)
	want := naiveMul(a, b)
	check := func(name string, got *Dense, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := maxAbsDiff(got, want); d > 1e-12 {
			t.Fatalf("%s differs from naive product by %g", name, d)
		}
	}
	got, err := Mul(a, b)
	check("Mul", got, err)
	got, err = TMul(a.T(), b)
	check("TMul", got, err)
	got, err = MulT(a, b.T())
	check("MulT", got, err)

	if _, err := Mul(a, a); !errors.Is(err, ErrShape) {
		t.Fatalf("Mul 9×4 by 9×4 error = %v, want ErrShape", err)
	}
	if _, err := Mul(a, &Dense{Rows: 4, Cols: 2, Data: make([]float64, 3)}); !errors.Is(err, ErrShape) {
		t.Fatalf("Mul with inconsistent Data error = %v, want ErrShape", err)
	}
	empty, err := Mul(NewDense(3, 0), NewDense(0, 2))
	if err != nil || empty.Rows != 3 || empty.Cols != 2 || maxAbs(empty) != 0 {
		t.Fatalf("3×0 times 0×2 = %v, %v; want a 3×2 zero matrix", empty, err)
	}
}
