package linalg

import "fmt"

// QR returns the thin QR factorisation A = Q·R of an m×n matrix with m ≥ n: Q is m×n with
// orthonormal columns and R is n×n upper triangular with a non-negative diagonal (which makes the
// factorisation unique when A has full column rank). It uses Householder reflections, so Q stays
// orthonormal to rounding even when A is rank deficient.
func QR(a *Dense) (q, r *Dense, err error) { return Solver{}.QR(a) }

// Orthonormalize returns the Q of [QR]: an m×n matrix with orthonormal columns whose span contains
// the column space of the m×n matrix A (m ≥ n), and equals it when A has full column rank.
func Orthonormalize(a *Dense) (*Dense, error) { return Solver{}.Orthonormalize(a) }

func qrWith(e engine, a *Dense) (q, r *Dense, err error) {
	if err := checkMatrix("QR input", a); err != nil {
		return nil, nil, err
	}
	if a.Rows < a.Cols {
		return nil, nil, fmt.Errorf("thin QR needs rows ≥ columns, got %d×%d: %w", a.Rows, a.Cols, ErrShape)
	}
	q, r = a.Clone(), NewDense(a.Cols, a.Cols)
	if err := qrInPlace(e, q, r); err != nil {
		return nil, nil, fmt.Errorf("QR of %d×%d matrix: %w", a.Rows, a.Cols, err)
	}
	return q, r, nil
}

// qrInPlace overwrites the checked m×n matrix q (m ≥ n) with its Q factor and fills the n×n r with
// R, flipping signs so that R's diagonal is non-negative.
func qrInPlace(e engine, q, r *Dense) error {
	m, n := q.Rows, q.Cols
	if err := e.qr(m, n, q.Data, r.Data); err != nil {
		return err
	}
	for j := range n {
		if r.Data[j*n+j] >= 0 {
			continue
		}
		for c := j; c < n; c++ {
			r.Data[j*n+c] = -r.Data[j*n+c]
		}
		for i := range m {
			q.Data[i*n+j] = -q.Data[i*n+j]
		}
	}
	return nil
}
