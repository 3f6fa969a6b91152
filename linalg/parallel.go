package linalg

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/eva-lora/eva/internal/openblas"
)

// Solver computes linalg's factorisations and products on one engine. The Solver that Parallel
// hands its jobs leaves OpenBLAS on the one thread Parallel set, so that the jobs run side by side;
// the zero Solver is the package-level functions' (OpenBLAS on every core, or gonum).
type Solver struct{ e engine }

// engine is the solver's engine, the package's current one for the zero Solver.
func (s Solver) engine() engine {
	if s.e == nil {
		return current()
	}
	return s.e
}

// SVD is the package's SVD on the solver's engine.
func (s Solver) SVD(a *Dense) (u *Dense, sv []float64, vt *Dense, err error) {
	return svdWith(s.engine(), a)
}

// RandomizedSVD is the package's RandomizedSVD on the solver's engine.
func (s Solver) RandomizedSVD(a *Dense, k int, opts RandomizedOptions) (u *Dense, sv []float64, vt *Dense, err error) {
	return randomizedSVDWith(s.engine(), a, k, opts)
}

// SymEig is the package's SymEig on the solver's engine.
func (s Solver) SymEig(a *Dense) (values []float64, vectors *Dense, err error) {
	return symEigWith(s.engine(), a)
}

// QR is the package's QR on the solver's engine.
func (s Solver) QR(a *Dense) (q, r *Dense, err error) { return qrWith(s.engine(), a) }

// Orthonormalize is the package's Orthonormalize on the solver's engine.
func (s Solver) Orthonormalize(a *Dense) (*Dense, error) {
	q, _, err := qrWith(s.engine(), a)
	return q, err
}

// Mul is the package's Mul on the solver's engine.
func (s Solver) Mul(a, b *Dense) (*Dense, error) {
	return product(s.engine(), "Mul", a, false, b, false)
}

// TMul is the package's TMul on the solver's engine.
func (s Solver) TMul(a, b *Dense) (*Dense, error) {
	return product(s.engine(), "TMul", a, true, b, false)
}

// MulT is the package's MulT on the solver's engine.
func (s Solver) MulT(a, b *Dense) (*Dense, error) {
	return product(s.engine(), "MulT", a, false, b, true)
}

// Parallel runs do(i, s) for i = 0…n−1 on up to workers goroutines (GOMAXPROCS when workers < 1 or
// more), with OpenBLAS on one thread until every call has returned, and returns the error of the
// lowest i that failed. Many small factorisations — EVA's per-layer PCA steps — use the cores better
// side by side than one after another on OpenBLAS's threads, which gain little at those sizes
// (BenchmarkParallelSketches); the caller bounds workers by the memory its jobs hold at once. Where
// fewer than two jobs could run at once (n or workers below 2, or one core), they run one after
// another on the zero Solver, OpenBLAS on every core, instead of one job on one thread. do must
// compute through s: the package-level functions would wait for Parallel to end.
func Parallel(n, workers int, do func(i int, s Solver) error) error {
	if workers < 1 || workers > runtime.GOMAXPROCS(0) {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, n)
	if min(n, workers) < 2 {
		for i := range n {
			errs[i] = do(i, Solver{})
		}
		return firstError(errs)
	}
	e := current()
	if o, ok := e.(*openblasEngine); ok {
		serial := *o
		serial.serial = true
		e = &serial
	}
	s := Solver{e}
	openblas.WithThreads(1, func() {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(n, workers) {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					errs[i] = do(i, s)
				}
			})
		}
		wg.Wait()
	})
	return firstError(errs)
}

// firstError returns the first error of errs that is not nil.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
