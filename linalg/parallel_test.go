package linalg

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
)

// TestParallelMatchesSerial: jobs run through Parallel give the singular values the package-level
// functions give, every job runs once, and the error returned is the lowest-indexed job's.
func TestParallelMatchesSerial(t *testing.T) {
	const jobs = 7
	mats := make([]*Dense, jobs)
	want := make([][]float64, jobs)
	for i := range mats {
		mats[i] = gaussian(newRNG(uint64(i+20)), 60+i, 30)
		_, s, _, err := SVD(mats[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = s
	}
	got := make([][]float64, jobs)
	runs := make([]int, jobs)
	err := Parallel(jobs, 0, func(i int, s Solver) error {
		runs[i]++
		_, sv, _, err := s.SVD(mats[i])
		got[i] = sv
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if runs[i] != 1 {
			t.Fatalf("job %d ran %d times", i, runs[i])
		}
		for j := range want[i] {
			if math.Abs(got[i][j]-want[i][j]) > 1e-12*want[i][0] {
				t.Fatalf("job %d: singular value %d is %v, want %v", i, j, got[i][j], want[i][j])
			}
		}
	}
	err = Parallel(jobs, 2, func(i int, _ Solver) error {
		if i%3 == 2 {
			return fmt.Errorf("job %d: %w", i, ErrArgument)
		}
		return nil
	})
	if !errors.Is(err, ErrArgument) || err.Error() != "job 2: "+ErrArgument.Error() {
		t.Errorf("error %v, want job 2's", err)
	}
	// One worker: the jobs run one after another on the zero Solver (OpenBLAS on every core), all of
	// them, and the lowest-indexed error still wins; two workers on two cores get the serial engine.
	var zero, other int
	err = Parallel(jobs, 1, func(i int, s Solver) error {
		if s == (Solver{}) {
			zero++
		}
		if i%3 == 2 {
			return fmt.Errorf("job %d: %w", i, ErrArgument)
		}
		return nil
	})
	if zero != jobs || err == nil || err.Error() != "job 2: "+ErrArgument.Error() {
		t.Errorf("one worker: %d of %d jobs on the zero Solver, error %v", zero, jobs, err)
	}
	if runtime.GOMAXPROCS(0) >= 2 {
		var mu sync.Mutex
		if err := Parallel(jobs, 2, func(_ int, s Solver) error {
			mu.Lock()
			defer mu.Unlock()
			if s != (Solver{}) {
				other++
			}
			return nil
		}); err != nil || other != jobs {
			t.Errorf("two workers: %d of %d jobs on the side-by-side solver (%v)", other, jobs, err)
		}
	}
	if err := Parallel(0, 0, nil); err != nil {
		t.Errorf("no jobs: %v", err)
	}
	// The package-level functions are usable again once Parallel returns (it released OpenBLAS).
	if _, _, _, err := SVD(mats[0]); err != nil {
		t.Fatal(err)
	}
}
