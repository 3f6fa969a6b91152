package linalg

import (
	"fmt"
	"math"
)

// symmetryTolerance bounds |a_ij − a_ji| relative to max |a_ij| for SymEig's input. It accepts the
// rounding of accumulated covariance matrices and rejects matrices that are not symmetric at all.
const symmetryTolerance = 1e-6

// SymEig returns the eigendecomposition A = V·diag(values)·Vᵀ of a symmetric n×n matrix: all n
// eigenvalues in descending order and the n×n orthogonal V whose column i is the unit eigenvector of
// values[i]. A must be symmetric to within a relative 1e-6 (ErrNotSymmetric otherwise); the
// factorisation uses (A + Aᵀ)/2, so both triangles count.
func SymEig(a *Dense) (values []float64, vectors *Dense, err error) {
	return Solver{}.SymEig(a)
}

func symEigWith(e engine, a *Dense) (values []float64, vectors *Dense, err error) {
	if err := checkMatrix("SymEig input", a); err != nil {
		return nil, nil, err
	}
	n := a.Rows
	if a.Cols != n {
		return nil, nil, fmt.Errorf("SymEig input is %d×%d, not square: %w", a.Rows, a.Cols, ErrShape)
	}
	work, err := symmetrized(a)
	if err != nil {
		return nil, nil, err
	}
	ascending := make([]float64, n)
	if err := e.symEig(n, work, ascending); err != nil {
		return nil, nil, fmt.Errorf("SymEig of %d×%d matrix: %w", n, n, err)
	}
	// Row i of work is the eigenvector of ascending[i]; reverse the order and make them columns.
	values, vectors = make([]float64, n), NewDense(n, n)
	for i := range n {
		src := n - 1 - i
		values[i] = ascending[src]
		for r := range n {
			vectors.Data[r*n+i] = work[src*n+r]
		}
	}
	return values, vectors, nil
}

// symmetrized returns (A + Aᵀ)/2 for a square A, or ErrNotSymmetric when A is not symmetric within
// symmetryTolerance.
func symmetrized(a *Dense) ([]float64, error) {
	n := a.Rows
	scale := 0.0
	for _, v := range a.Data {
		scale = max(scale, math.Abs(v))
	}
	out := make([]float64, n*n)
	for i := range n {
		out[i*n+i] = a.Data[i*n+i]
		for j := i + 1; j < n; j++ {
			upper, lower := a.Data[i*n+j], a.Data[j*n+i]
			if math.Abs(upper-lower) > symmetryTolerance*scale {
				return nil, fmt.Errorf("SymEig input: a[%d][%d] = %g but a[%d][%d] = %g: %w", i, j, upper, j, i, lower, ErrNotSymmetric)
			}
			avg := upper + (lower-upper)/2
			out[i*n+j], out[j*n+i] = avg, avg
		}
	}
	return out, nil
}
