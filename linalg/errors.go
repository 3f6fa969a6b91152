package linalg

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors; every error this package returns wraps one of them, so callers can test with errors.Is.
var (
	// ErrShape reports an empty matrix, a Data slice of the wrong length or incompatible dimensions.
	ErrShape = errors.New("bad matrix shape")
	// ErrNonFinite reports a NaN or ±Inf entry in an input matrix.
	ErrNonFinite = errors.New("non-finite matrix entry")
	// ErrNotSymmetric reports an input to SymEig that is not symmetric within rounding.
	ErrNotSymmetric = errors.New("matrix not symmetric")
	// ErrArgument reports an invalid parameter other than a matrix, such as k ≤ 0.
	ErrArgument = errors.New("invalid argument")
	// ErrNoConvergence reports that an iterative factorisation failed to converge.
	ErrNoConvergence = errors.New("no convergence")
)

// maxDim is the largest dimension LAPACK's 32-bit integers can describe.
const maxDim = math.MaxInt32

// checkMatrix verifies that a is a non-empty, consistently sized matrix of finite values.
// name identifies the matrix in the error (for example "SVD input").
func checkMatrix(name string, a *Dense) error {
	if err := checkShape(name, a); err != nil {
		return err
	}
	if a.Rows == 0 || a.Cols == 0 {
		return fmt.Errorf("%s is empty (%d×%d): %w", name, a.Rows, a.Cols, ErrShape)
	}
	if a.Rows > maxDim || a.Cols > maxDim {
		return fmt.Errorf("%s is %d×%d, larger than LAPACK's 32-bit limit: %w", name, a.Rows, a.Cols, ErrShape)
	}
	for idx, v := range a.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s has %v at (%d, %d): %w", name, v, idx/a.Cols, idx%a.Cols, ErrNonFinite)
		}
	}
	return nil
}

// checkShape verifies that a is non-nil with non-negative dimensions matching len(a.Data).
func checkShape(name string, a *Dense) error {
	if a == nil {
		return fmt.Errorf("%s is nil: %w", name, ErrShape)
	}
	if a.Rows < 0 || a.Cols < 0 {
		return fmt.Errorf("%s has negative dimensions %d×%d: %w", name, a.Rows, a.Cols, ErrShape)
	}
	if a.Cols != 0 && a.Rows > math.MaxInt/a.Cols || len(a.Data) != a.Rows*a.Cols {
		return fmt.Errorf("%s is %d×%d but holds %d values: %w", name, a.Rows, a.Cols, len(a.Data), ErrShape)
	}
	return nil
}
