package cpu

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestParallelForCoversEachIndexOnce checks that the ranges are disjoint and cover [0, n) for sizes
// around the chunking boundaries, on several goroutines and on one.
func TestParallelForCoversEachIndexOnce(t *testing.T) {
	defer func(w int) { minParallelWork = w }(minParallelWork)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, threshold := range []int{1, 100, 1 << 15} {
		minParallelWork = threshold
		for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 31, 100, 1001} {
			for _, cost := range []int{0, 1, 50} {
				counts := make([]atomic.Int32, n)
				parallelFor(n, cost, func(lo, hi int) {
					if lo >= hi {
						t.Errorf("n=%d: empty range [%d, %d)", n, lo, hi)
					}
					for i := lo; i < hi; i++ {
						counts[i].Add(1)
					}
				})
				for i := range counts {
					if c := counts[i].Load(); c != 1 {
						t.Fatalf("threshold %d, n=%d, cost %d: index %d visited %d times", threshold, n, cost, i, c)
					}
				}
			}
		}
	}
}

// TestParallelForUsesSeveralGoroutines checks that large work is really split.
func TestParallelForUsesSeveralGoroutines(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var calls atomic.Int32
	parallelFor(1000, minParallelWork, func(lo, hi int) { calls.Add(1) })
	if calls.Load() < 2 {
		t.Fatalf("work of 1000×threshold ran in %d chunk(s)", calls.Load())
	}
	calls.Store(0)
	parallelFor(10, 1, func(lo, hi int) { calls.Add(1) })
	if calls.Load() != 1 {
		t.Fatalf("tiny work ran in %d chunks, want 1", calls.Load())
	}
}
