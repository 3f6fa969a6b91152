package linalg_test

import (
	"fmt"

	"github.com/eva-lora/eva/linalg"
)

func ExampleSVD() {
	a, err := linalg.Wrap(3, 2, []float64{
		3, 0,
		0, 4,
		0, 0,
	})
	if err != nil {
		panic(err)
	}
	u, s, vt, err := linalg.SVD(a)
	if err != nil {
		panic(err)
	}
	fmt.Printf("U %d×%d, s %.3f, Vᵀ %d×%d\n", u.Rows, u.Cols, s, vt.Rows, vt.Cols)
	// Output: U 3×2, s [4.000 3.000], Vᵀ 2×2
}

func ExampleSymEig() {
	a, err := linalg.Wrap(2, 2, []float64{
		2, 1,
		1, 2,
	})
	if err != nil {
		panic(err)
	}
	values, vectors, err := linalg.SymEig(a)
	if err != nil {
		panic(err)
	}
	v := vectors.Col(0) // eigenvector of the largest eigenvalue, up to sign
	fmt.Printf("λ %.3f, |v0| (%.3f, %.3f)\n", values, abs(v[0]), abs(v[1]))
	// Output: λ [3.000 1.000], |v0| (0.707, 0.707)
}

func ExampleRandomizedSVD() {
	// A rank-2 matrix: the randomized SVD finds its two singular values exactly.
	a, err := linalg.Wrap(4, 3, []float64{
		1, 0, 0,
		0, 2, 0,
		1, 0, 0,
		0, 2, 0,
	})
	if err != nil {
		panic(err)
	}
	_, s, _, err := linalg.RandomizedSVD(a, 1, linalg.RandomizedOptions{Seed: 42})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\n", s)
	// Output: [2.8284]
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
