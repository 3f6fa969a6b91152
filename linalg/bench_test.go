package linalg

import (
	"fmt"
	"testing"
)

// The benchmarks run each factorisation on both engines at the sizes EVA meets (hidden size 768,
// calibration batches of 4096 rows, rank 16):
//
//	go test ./linalg -run '^$' -bench . -benchtime 3x
func benchEngines(b *testing.B, run func(b *testing.B, e engine)) {
	for _, e := range testEngines(b) {
		b.Run(e.name(), func(b *testing.B) { run(b, e) })
	}
}

func BenchmarkSVD4096x768(b *testing.B) {
	a := gaussian(newRNG(70), 4096, 768)
	benchEngines(b, func(b *testing.B, e engine) {
		for b.Loop() {
			if _, _, _, err := svdWith(e, a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSymEig768(b *testing.B) {
	x := gaussian(newRNG(71), 4096, 768)
	cov := NewDense(768, 768)
	gemmInto(gonumEngine{}, true, false, 768, 768, 4096, x, x, cov)
	benchEngines(b, func(b *testing.B, e engine) {
		for b.Loop() {
			if _, _, err := symEigWith(e, cov); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRandomizedSVD4096x768k16(b *testing.B) {
	a := gaussian(newRNG(72), 4096, 768)
	benchEngines(b, func(b *testing.B, e engine) {
		for b.Loop() {
			if _, _, _, err := randomizedSVDWith(e, a, 16, RandomizedOptions{Seed: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkQR covers both sides of narrowQR: 4096×32 (gonum's code on both engines) and 4096×256.
func BenchmarkQR(b *testing.B) {
	for _, n := range []int{32, 256} {
		a := gaussian(newRNG(73), 4096, n)
		b.Run(fmt.Sprintf("4096x%d", n), func(b *testing.B) {
			benchEngines(b, func(b *testing.B, e engine) {
				for b.Loop() {
					if _, _, err := qrWith(e, a); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkSketchOrExact compares, on EVA's incremental-PCA shapes (rows: k components + 768
// tokens + 1), the randomized sketch with q = 2k against the exact SVD: RandomizedSVD switches to
// the exact one from q ≥ min(m, n)/2.
func BenchmarkSketchOrExact(b *testing.B) {
	e := current()
	for _, sz := range [][3]int{{897, 384, 128}, {833, 384, 64}, {897, 1024, 128}} {
		m, n, k := sz[0], sz[1], sz[2]
		a := gaussian(newRNG(73), m, n)
		b.Run(fmt.Sprintf("%dx%d-k%d/sketch", m, n, k), func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := sketchSVD(e, a, k, 2*k, DefaultPowerIters, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%dx%d-k%d/exact", m, n, k), func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := svdChecked(e, a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOrthonormalize compares, on the range finder's shapes for EVA at r 64 (q = 128 columns;
// 833 rows of a batch's sketch, 384 of its Aᵀ side), Householder QR with forming Q against the
// CholeskyQR2 that rangeBasis uses.
func BenchmarkOrthonormalize(b *testing.B) {
	e := current()
	for _, sz := range [][2]int{{833, 128}, {384, 128}, {833, 32}} {
		m, q := sz[0], sz[1]
		y := gaussian(newRNG(5), m, q)
		b.Run(fmt.Sprintf("%dx%d/householder", m, q), func(b *testing.B) {
			work, r := NewDense(m, q), NewDense(q, q)
			for b.Loop() {
				copy(work.Data, y.Data)
				if err := qrInPlace(e, work, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%dx%d/cholqr2", m, q), func(b *testing.B) {
			o := &orthonormalizer{e: e}
			work := NewDense(m, q)
			for b.Loop() {
				copy(work.Data, y.Data)
				if _, err := o.orthonormalize(work); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParallelSketches runs eight of EVA's r 64 incremental-PCA sketches (833×384, k 64) one
// after another on OpenBLAS's threads against side by side through Parallel.
func BenchmarkParallelSketches(b *testing.B) {
	const jobs = 8
	mats := make([]*Dense, jobs)
	for i := range mats {
		mats[i] = gaussian(newRNG(uint64(i)), 833, 384)
	}
	opts := RandomizedOptions{Columns: 128, Seed: 1}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			for _, a := range mats {
				if _, _, _, err := RandomizedSVD(a, 64, opts); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		for b.Loop() {
			if err := Parallel(jobs, 0, func(i int, s Solver) error {
				_, _, _, err := s.RandomizedSVD(mats[i], 64, opts)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
