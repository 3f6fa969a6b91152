package linalg

import "fmt"

// SVD returns the thin singular value decomposition A = U·diag(s)·Vᵀ of an m×n matrix, with
// p = min(m, n): U is m×p with orthonormal columns (the left singular vectors), s holds the p singular
// values in descending order, and vt is p×n with orthonormal rows (the right singular vectors).
// With OpenBLAS it uses LAPACK's divide-and-conquer dgesdd.
func SVD(a *Dense) (u *Dense, s []float64, vt *Dense, err error) {
	return Solver{}.SVD(a)
}

func svdWith(e engine, a *Dense) (u *Dense, s []float64, vt *Dense, err error) {
	if err := checkMatrix("SVD input", a); err != nil {
		return nil, nil, nil, err
	}
	return svdChecked(e, a)
}

// svdChecked is SVD for an input already validated by checkMatrix.
func svdChecked(e engine, a *Dense) (u *Dense, s []float64, vt *Dense, err error) {
	m, n := a.Rows, a.Cols
	p := min(m, n)
	u, s, vt = NewDense(m, p), make([]float64, p), NewDense(p, n)
	if err := e.svd(m, n, append([]float64(nil), a.Data...), s, u.Data, vt.Data); err != nil {
		return nil, nil, nil, fmt.Errorf("SVD of %d×%d matrix: %w", m, n, err)
	}
	return u, s, vt, nil
}
