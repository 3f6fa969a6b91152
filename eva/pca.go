package eva

import (
	"fmt"
	"math"

	"github.com/eva-lora/eva/linalg"
)

// estimator is one hook layer's running PCA of its input rows: sklearn's IncrementalPCA as PEFT
// vendors it (Randomized and Exact modes), or the exact PCA of all rows (Covariance mode).
type estimator struct {
	mode SVDMode
	k, d int
	seed uint64

	seen     int64     // rows absorbed into mean, variance (and scatter)
	mean     []float64 // column means of every row seen
	variance []float64 // column variances (divided by seen)
	// After the first step: components is k×d (rows = principal directions, svd_flip signs),
	// singular holds their singular values and evr their explained variance ratios.
	components *linalg.Dense
	singular   []float64
	evr        []float64

	scatter []float64 // Covariance: the d×d Σ(x−μ)(x−μ)ᵀ over every row seen
}

// scratch is a reusable float64 buffer for the matrix a step factorises. A Run keeps a pool of
// them, one per estimator stepping at the same time, rather than one per layer.
type scratch struct{ data []float64 }

// get returns a slice of length size, reusing the buffer when it is large enough.
func (s *scratch) get(size int) []float64 {
	if cap(s.data) < size {
		s.data = make([]float64, size)
	}
	return s.data[:size]
}

// stepEnv is what one PCA step computes with: a solver and a scratch buffer of its own.
type stepEnv struct {
	solver linalg.Solver
	buf    *scratch
}

func newEstimator(mode SVDMode, k, d int, seed uint64) *estimator {
	e := &estimator{mode: mode, k: k, d: d, seed: seed}
	if mode == Covariance {
		e.scatter = make([]float64, d*d)
	}
	return e
}

// fitted reports whether at least one step has produced components.
func (e *estimator) fitted() bool { return e.components != nil }

// fit absorbs n rows (n·d float32 values, finite) and, when enough rows are available, computes new
// components: it reports whether it did. The incremental modes skip a batch of fewer than k rows
// entirely, as PEFT's hook does; Covariance mode always absorbs the rows and steps once k rows have
// been seen. On error the incremental modes leave the estimator unchanged; Covariance mode may have
// absorbed the rows.
func (e *estimator) fit(env stepEnv, rows []float32, n int) (stepped bool, err error) {
	if e.mode == Covariance {
		return e.fitCovariance(env, rows, n)
	}
	if n < e.k {
		return false, nil
	}
	return true, e.fitIncremental(env, rows, n)
}

// fitIncremental is IncrementalPCA.partial_fit. The first step factorises the centred batch; later
// steps factorise the stacked (k+n+1)×d matrix [diag(σ)·V ; batch − batch mean ; mean correction],
// whose Gram matrix is the scatter of all rows seen projected onto the kept directions plus the new
// batch's.
func (e *estimator) fitIncremental(env stepEnv, rows []float32, n int) error {
	k, d := e.k, e.d
	first := !e.fitted()
	top, bottom := 0, 0
	if !first {
		top, bottom = k, 1
	}
	m := top + n + bottom
	stacked := env.buf.get(m * d)
	batch := centreBatch(rows, n, d, stacked[top*d:(top+n)*d])
	mean, variance := combineMoments(e.mean, e.variance, e.seen, batch)
	total := e.seen + int64(n)
	if !first {
		for i := range k {
			s, src, dst := e.singular[i], e.components.Row(i), stacked[i*d:(i+1)*d]
			for j, v := range src {
				dst[j] = s * v
			}
		}
		// sqrt(seen/total · n)·(old mean − batch mean) restores the mean the centring removed.
		f := math.Sqrt(float64(e.seen) / float64(total) * float64(n))
		last := stacked[(m-1)*d:]
		for j := range d {
			last[j] = f * (e.mean[j] - batch.mean[j])
		}
	}
	a := &linalg.Dense{Rows: m, Cols: d, Data: stacked}
	var (
		s   []float64
		vt  *linalg.Dense
		err error
	)
	if e.mode == Exact {
		_, s, vt, err = env.solver.SVD(a)
	} else {
		_, s, vt, err = env.solver.RandomizedSVD(a, k, linalg.RandomizedOptions{Columns: 2 * k, PowerIters: 4, Seed: e.seed})
	}
	if err != nil {
		return fmt.Errorf("incremental PCA step on %d rows: %w", n, err)
	}
	comps := linalg.NewDense(k, d)
	copy(comps.Data, vt.Data[:k*d])
	e.commit(comps, s[:k], mean, variance, total)
	return nil
}

// commit flips the signs of comps (rows), computes the explained variance ratios σ²/Σ(var·N) and
// stores the new state.
func (e *estimator) commit(comps *linalg.Dense, singular, mean, variance []float64, total int64) {
	flipSigns(comps)
	totalScatter := 0.0
	for _, v := range variance {
		totalScatter += v * float64(total)
	}
	e.singular = make([]float64, e.k)
	e.evr = make([]float64, e.k)
	for i := range e.k {
		e.singular[i] = singular[i]
		if totalScatter > 0 {
			e.evr[i] = singular[i] * singular[i] / totalScatter
		}
	}
	e.components, e.mean, e.variance, e.seen = comps, mean, variance, total
}

// fitCovariance adds the rows to the scatter matrix and, once k rows have been seen, takes its top
// k eigenvectors. A batch without rows is no step.
func (e *estimator) fitCovariance(env stepEnv, rows []float32, n int) (bool, error) {
	if n == 0 {
		return false, nil
	}
	if err := e.absorb(env, rows, n); err != nil {
		return false, err
	}
	if e.seen < int64(e.k) {
		return false, nil
	}
	return true, e.eigenStep(env)
}

// absorb adds the batch's own centred scatter XᵀX (one BLAS product) plus the rank-one term
// (seen·n/total)·δδᵀ, δ = old mean − batch mean, that moves it to the common mean, and updates the
// running mean and variance.
func (e *estimator) absorb(env stepEnv, rows []float32, n int) error {
	d := e.d
	x := &linalg.Dense{Rows: n, Cols: d, Data: env.buf.get(n * d)}
	batch := centreBatch(rows, n, d, x.Data)
	gram, err := env.solver.TMul(x, x)
	if err != nil {
		return fmt.Errorf("covariance update on %d rows: %w", n, err)
	}
	total := e.seen + int64(n)
	f := float64(e.seen) * float64(n) / float64(total)
	delta := make([]float64, d)
	if e.seen > 0 {
		for j := range d {
			delta[j] = e.mean[j] - batch.mean[j]
		}
	}
	for i := range d {
		fi := f * delta[i]
		row, g := e.scatter[i*d:(i+1)*d], gram.Row(i)
		for j := range d {
			row[j] += g[j] + fi*delta[j]
		}
	}
	e.mean, e.variance = combineMoments(e.mean, e.variance, e.seen, batch)
	e.seen = total
	return nil
}

// eigenStep takes the top k eigenvectors of the scatter matrix as the components; their singular
// values are the square roots of the eigenvalues, as for the centred data matrix.
func (e *estimator) eigenStep(env stepEnv) error {
	d := e.d
	values, vectors, err := env.solver.SymEig(&linalg.Dense{Rows: d, Cols: d, Data: e.scatter})
	if err != nil {
		return fmt.Errorf("covariance eigendecomposition: %w", err)
	}
	comps := linalg.NewDense(e.k, d)
	singular := make([]float64, e.k)
	for i := range e.k {
		singular[i] = math.Sqrt(max(values[i], 0)) // rounding can leave tiny negative eigenvalues
		row := comps.Row(i)
		for j := range d {
			row[j] = vectors.Data[j*d+i]
		}
	}
	e.commit(comps, singular, e.mean, e.variance, e.seen)
	return nil
}

// flipSigns applies sklearn's svd_flip with u_based_decision=False to the rows of v: each row is
// multiplied by the sign of its largest-magnitude entry (the first one on ties), so that entry is
// positive.
func flipSigns(v *linalg.Dense) {
	for i := range v.Rows {
		row := v.Row(i)
		best, arg := -1.0, 0
		for j, x := range row {
			if a := math.Abs(x); a > best {
				best, arg = a, j
			}
		}
		if row[arg] < 0 {
			for j := range row {
				row[j] = -row[j]
			}
		}
	}
}

// cosines returns, for each row i, the cosine similarity of a's and b's row i, computed as
// torch.nn.functional.cosine_similarity does (norms clamped at 1e-8).
func cosines(a, b *linalg.Dense) []float64 {
	const eps = 1e-8
	out := make([]float64, a.Rows)
	for i := range a.Rows {
		x, y := a.Row(i), b.Row(i)
		var dot, xx, yy float64
		for j := range x {
			dot += x[j] * y[j]
			xx += x[j] * x[j]
			yy += y[j] * y[j]
		}
		out[i] = dot / math.Sqrt(max(xx*yy, eps*eps))
	}
	return out
}
