package inits

import (
	"errors"
	"fmt"
	"math"

	"github.com/eva-lora/eva/linalg"
)

// ErrMissingStats reports that a data-driven method was called without the statistic it needs
// (Stats.Cov, Stats.Grad or Stats.OutGradSq).
var ErrMissingStats = errors.New("missing data statistic")

// ErrUnsupported reports a method that this package does not compute (EVA, built from an eva.State).
var ErrUnsupported = errors.New("method not computed by this package")

// Result is one layer's initial adapter: A is [r, in], B is [out, r].
type Result struct {
	A, B *linalg.Dense
	// Offset tells the caller to replace the base weight W by W − s·B·A (see [Result.Residual]), so
	// that the layer's output at step 0 equals the pretrained one. When false the base weight stays
	// and the adapter's initial update s·B·A is added to it (zero for the random methods).
	Offset bool
}

// Update returns the adapter's initial update s·B·A, [out, in].
func (res Result) Update(s float64) (*linalg.Dense, error) {
	ba, err := linalg.Mul(res.B, res.A)
	if err != nil {
		return nil, fmt.Errorf("inits: B·A: %w", err)
	}
	for i := range ba.Data {
		ba.Data[i] *= s
	}
	return ba, nil
}

// Residual returns W − s·B·A, the base weight the caller installs when Offset is set. It does not
// modify w.
func (res Result) Residual(w *linalg.Dense, s float64) (*linalg.Dense, error) {
	upd, err := res.Update(s)
	if err != nil {
		return nil, err
	}
	if w == nil || w.Rows != upd.Rows || w.Cols != upd.Cols || len(w.Data) != len(upd.Data) {
		return nil, fmt.Errorf("inits: residual: weight does not match the %d×%d update: %w", upd.Rows, upd.Cols, linalg.ErrShape)
	}
	for i, v := range w.Data {
		upd.Data[i] = v - upd.Data[i]
	}
	return upd, nil
}

// Stats holds the per-layer data statistics that the data-driven methods need. Which fields a
// method reads is given by [Method.Needs] and [Method.NeedsOutGradSq]; the others may be nil.
type Stats struct {
	// Cov is [in, in]: the uncentred mean of x·xᵀ over the calibration tokens x that reach the layer
	// (the tokens the attention mask keeps). CorDA's C and LoRA-DA's Z before damping.
	Cov *linalg.Dense
	// Grad is [out, in]: the gradient of the loss with respect to W, averaged over the gradient
	// batches (each batch's loss being its mean token cross-entropy). LoRA-GA, LoRA-One and LoRA-DA.
	Grad *linalg.Dense
	// OutGradSq is [out]: LoRA-DA's output-side K-FAC diagonal before damping,
	//   OutGradSq[j] = (1/T) Σ_b Σ_{t∈b} (∂L_b/∂y_{b,t,j})²,
	// where each Fisher sample b is backpropagated on its own (batch size 1, L_b its mean token
	// loss), y = W·x is the layer's output, t runs over b's attention-mask tokens and T counts them
	// over all samples (zqy0126/LoRA-DA, lora_da.py, _KFACCollector).
	OutGradSq []float64
}

// checkMatrix verifies that m is a finite rows×cols matrix (a negative size accepts any) and names
// the method and the matrix in its error. A nil statistic wraps ErrMissingStats, a nil weight ErrShape.
func checkMatrix(method, name string, m *linalg.Dense, rows, cols int) error {
	if m == nil {
		sentinel := ErrMissingStats
		if name == "weight" {
			sentinel = linalg.ErrShape
		}
		return fmt.Errorf("inits: %s: %s is nil: %w", method, name, sentinel)
	}
	if m.Rows <= 0 || m.Cols <= 0 || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("inits: %s: %s is %d×%d holding %d values: %w", method, name, m.Rows, m.Cols, len(m.Data), linalg.ErrShape)
	}
	if (rows >= 0 && m.Rows != rows) || (cols >= 0 && m.Cols != cols) {
		return fmt.Errorf("inits: %s: %s is %d×%d, want %d×%d: %w", method, name, m.Rows, m.Cols, rows, cols, linalg.ErrShape)
	}
	for i, v := range m.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("inits: %s: %s has %v at (%d, %d): %w", method, name, v, i/m.Cols, i%m.Cols, linalg.ErrNonFinite)
		}
	}
	return nil
}

// checkRank verifies 1 ≤ r ≤ limit, where limit is the most the method can give.
func checkRank(method string, r, limit int) error {
	if r < 1 || r > limit {
		return fmt.Errorf("inits: %s: rank r = %d, want 1 ≤ r ≤ %d: %w", method, r, limit, linalg.ErrArgument)
	}
	return nil
}

// checkScale verifies that the adapter scale s is finite and positive (the SVD methods divide by it).
func checkScale(method string, s float64) error {
	if !(s > 0) || math.IsInf(s, 0) {
		return fmt.Errorf("inits: %s: adapter scale s = %v, want a finite s > 0: %w", method, s, linalg.ErrArgument)
	}
	return nil
}

// pickCols returns the columns idx of m as a new len(m.Rows)×len(idx) matrix, each multiplied by
// scale[k] when scale is not nil.
func pickCols(m *linalg.Dense, idx []int, scale []float64) *linalg.Dense {
	out := linalg.NewDense(m.Rows, len(idx))
	for i := range m.Rows {
		src, dst := m.Row(i), out.Row(i)
		for k, j := range idx {
			dst[k] = src[j]
			if scale != nil {
				dst[k] *= scale[k]
			}
		}
	}
	return out
}

// pickRows returns the rows idx of m as a new len(idx)×m.Cols matrix, each multiplied by scale[k]
// when scale is not nil.
func pickRows(m *linalg.Dense, idx []int, scale []float64) *linalg.Dense {
	out := linalg.NewDense(len(idx), m.Cols)
	for k, i := range idx {
		dst := out.Row(k)
		copy(dst, m.Row(i))
		if scale != nil {
			for j := range dst {
				dst[j] *= scale[k]
			}
		}
	}
	return out
}

// span returns the indices lo, lo+1, …, hi−1.
func span(lo, hi int) []int {
	idx := make([]int, 0, max(hi-lo, 0))
	for i := lo; i < hi; i++ {
		idx = append(idx, i)
	}
	return idx
}

// scaleAll multiplies every entry of m by c in place.
func scaleAll(m *linalg.Dense, c float64) {
	for i := range m.Data {
		m.Data[i] *= c
	}
}
