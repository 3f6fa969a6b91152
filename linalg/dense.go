package linalg

import (
	"fmt"
	"strings"
)

// Dense is a row-major matrix: element (i, j) is Data[i*Cols+j] and len(Data) == Rows*Cols.
// The fields are exported so that callers can build and read matrices without copies; a Dense
// returned by this package owns its Data, which nothing else references.
type Dense struct {
	Rows, Cols int
	Data       []float64
}

// NewDense returns a zero rows×cols matrix. Like make, it panics if a dimension is negative; use Wrap
// to validate shapes that come from user data.
func NewDense(rows, cols int) *Dense {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("linalg.NewDense: negative dimensions %d×%d", rows, cols))
	}
	return &Dense{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// Wrap returns a rows×cols matrix backed by data (not copied: the matrix and the caller share it),
// or an error wrapping ErrShape when len(data) != rows*cols.
func Wrap(rows, cols int, data []float64) (*Dense, error) {
	a := &Dense{Rows: rows, Cols: cols, Data: data}
	if err := checkShape("wrapped matrix", a); err != nil {
		return nil, err
	}
	return a, nil
}

// Identity returns the n×n identity matrix.
func Identity(n int) *Dense {
	a := NewDense(n, n)
	for i := range n {
		a.Data[i*n+i] = 1
	}
	return a
}

// At returns element (i, j); it panics when the index is out of range, like a slice.
func (a *Dense) At(i, j int) float64 {
	a.checkIndex(i, j)
	return a.Data[i*a.Cols+j]
}

// Set sets element (i, j) to v; it panics when the index is out of range, like a slice.
func (a *Dense) Set(i, j int, v float64) {
	a.checkIndex(i, j)
	a.Data[i*a.Cols+j] = v
}

func (a *Dense) checkIndex(i, j int) {
	if i < 0 || i >= a.Rows || j < 0 || j >= a.Cols {
		panic(fmt.Sprintf("linalg: index (%d, %d) out of range for %d×%d matrix", i, j, a.Rows, a.Cols))
	}
}

// Row returns row i as a slice that shares a's storage.
func (a *Dense) Row(i int) []float64 {
	return a.Data[i*a.Cols : (i+1)*a.Cols : (i+1)*a.Cols]
}

// Col returns a copy of column j.
func (a *Dense) Col(j int) []float64 {
	col := make([]float64, a.Rows)
	for i := range col {
		col[i] = a.Data[i*a.Cols+j]
	}
	return col
}

// Clone returns a deep copy of a.
func (a *Dense) Clone() *Dense {
	return &Dense{Rows: a.Rows, Cols: a.Cols, Data: append([]float64(nil), a.Data...)}
}

// T returns a new matrix holding the transpose of a.
func (a *Dense) T() *Dense {
	t := NewDense(a.Cols, a.Rows)
	transposeInto(t.Data, a.Data, a.Rows, a.Cols)
	return t
}

// transposeInto writes the transpose of the r×c row-major src into dst (c×r row-major).
// It works in square tiles so that both matrices are read and written cache-line by cache-line.
func transposeInto(dst, src []float64, r, c int) {
	const tile = 32
	for i0 := 0; i0 < r; i0 += tile {
		i1 := min(i0+tile, r)
		for j0 := 0; j0 < c; j0 += tile {
			j1 := min(j0+tile, c)
			for i := i0; i < i1; i++ {
				for j := j0; j < j1; j++ {
					dst[j*r+i] = src[i*c+j]
				}
			}
		}
	}
}

// String formats a with one row per line, for debugging and test failures.
func (a *Dense) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d×%d", a.Rows, a.Cols)
	for i := range a.Rows {
		b.WriteString("\n")
		for j := range a.Cols {
			fmt.Fprintf(&b, " %12.6g", a.Data[i*a.Cols+j])
		}
	}
	return b.String()
}

// Mul returns the product a·b. It wraps ErrShape when the inner dimensions differ.
func Mul(a, b *Dense) (*Dense, error) { return Solver{}.Mul(a, b) }

// TMul returns aᵀ·b (for example the Gram matrix XᵀX) without forming aᵀ.
func TMul(a, b *Dense) (*Dense, error) { return Solver{}.TMul(a, b) }

// MulT returns a·bᵀ without forming bᵀ.
func MulT(a, b *Dense) (*Dense, error) { return Solver{}.MulT(a, b) }

// product validates the operands and returns op(a)·op(b), where op transposes when its flag is set.
func product(e engine, name string, a *Dense, transA bool, b *Dense, transB bool) (*Dense, error) {
	if err := checkShape(name+" left operand", a); err != nil {
		return nil, err
	}
	if err := checkShape(name+" right operand", b); err != nil {
		return nil, err
	}
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if transB {
		kb, n = n, kb
	}
	if k != kb {
		return nil, fmt.Errorf("%s: inner dimensions differ (%d×%d times %d×%d): %w", name, m, k, kb, n, ErrShape)
	}
	if m > maxDim || n > maxDim || k > maxDim {
		return nil, fmt.Errorf("%s: %d×%d times %d×%d exceeds BLAS's 32-bit limit: %w", name, m, k, kb, n, ErrShape)
	}
	c := NewDense(m, n)
	gemmInto(e, transA, transB, m, n, k, a, b, c)
	return c, nil
}

// gemmInto sets c = op(a)·op(b), where op(a) is m×k and op(b) is k×n.
func gemmInto(e engine, transA, transB bool, m, n, k int, a, b, c *Dense) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c.Data)
		return
	}
	e.gemm(transA, transB, m, n, k, a.Data, a.Cols, b.Data, b.Cols, c.Data)
}
