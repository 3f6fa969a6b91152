// Package linalg is the float64 dense linear algebra EVA's statistics need: matrix products, thin QR,
// symmetric eigendecomposition, thin SVD and a seeded randomized SVD.
//
// # Conventions
//
// Matrices are [Dense] values stored row-major: element (i, j) of an r×c matrix is Data[i*c+j].
// A [Dense] is just a view of its Data slice, which the caller may read and write directly. [Wrap]
// and [Dense.Row] share storage with their argument; every other function leaves its inputs untouched
// and returns freshly allocated results that the caller owns and that alias nothing else.
// All functions are safe for concurrent use on matrices that are not being written.
//
// Factorisations follow the textbook shapes, with p = min(m, n) for an m×n matrix A:
//
//   - [QR]: A = Q·R with Q m×n having orthonormal columns and R n×n upper triangular with a
//     non-negative diagonal (m ≥ n).
//   - [SymEig]: A = V·diag(λ)·Vᵀ with λ in descending order and eigenvector i in column i of V.
//   - [SVD]: A = U·diag(σ)·Vᵀ with U m×p, σ descending and non-negative, and Vᵀ p×n: left singular
//     vectors are the columns of U, right singular vectors the rows of Vᵀ.
//   - [RandomizedSVD]: the leading k factors of the SVD, computed from a Gaussian sketch
//     (Halko, Martinsson and Tropp, 2011).
//
// Singular and eigen vectors are determined only up to sign (and, for repeated values, up to a
// rotation within their subspace); callers must not rely on a particular sign.
//
// Invalid input is reported as an error, never a panic: empty or mismatched shapes wrap [ErrShape],
// NaN or ±Inf entries [ErrNonFinite], a non-symmetric input to SymEig [ErrNotSymmetric], and a bad
// parameter such as k ≤ 0 [ErrArgument]. A factorisation that fails to converge wraps
// [ErrNoConvergence].
//
// # Backends
//
// The work is done by OpenBLAS (its CBLAS and Fortran LAPACK interfaces, loaded at run time through
// internal/openblas: dgemm, dgeqrf/dorgqr, dgesdd, dsyevd). When the library cannot be loaded, or
// EVA_OPENBLAS=none, the package falls back to gonum's pure-Go BLAS and LAPACK, printing one warning
// per process; results agree to rounding, but large factorisations are several times slower.
package linalg
