package cpu

import (
	"math"
	"testing"
)

func TestAdapterKernels(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(21)
		be := New()
		const n, d = 37, 45
		x, y, v := randSlice(rng, n*d, 1), randSlice(rng, n*d, 1), randSlice(rng, d, 1)

		out := be.Zeros(n, d)
		be.MulRowVector(out, be.FromHost(x, n, d), be.FromHost(v, d))
		want := make([]float64, n*d)
		for i := range want {
			want[i] = float64(x[i]) * float64(v[i%d])
		}
		assertClose(t, "MulRowVector", Data(out), want, 1e-6)

		sr := be.Zeros(n, d)
		be.ScaleRows(sr, be.FromHost(x, n, d), be.FromHost(y[:n], n))
		for i := range want {
			want[i] = float64(x[i]) * float64(y[i/d])
		}
		assertClose(t, "ScaleRows", Data(sr), want, 1e-6)

		rows := be.Zeros(n)
		be.RowDots(rows, be.FromHost(x, n, d), be.FromHost(y, n, d))
		wantRows := make([]float64, n)
		for i := range n {
			for j := range d {
				wantRows[i] += float64(x[i*d+j]) * float64(y[i*d+j])
			}
		}
		assertClose(t, "RowDots", Data(rows), wantRows, 1e-6)

		cols := be.FromHost(v, d) // accumulates onto v
		be.ColDots(cols, be.FromHost(x, n, d), be.FromHost(y, n, d))
		wantCols := make([]float64, d)
		for j := range d {
			wantCols[j] = float64(v[j])
			for i := range n {
				wantCols[j] += float64(x[i*d+j]) * float64(y[i*d+j])
			}
		}
		assertClose(t, "ColDots", Data(cols), wantCols, 1e-6)
	})
}

// TestDropout checks the mask's rate, the 1/(1−p) rescaling, reproducibility from the seed and that
// different seeds give different masks.
func TestDropout(t *testing.T) {
	be := New()
	const n, p = 100000, 0.25
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	x := be.FromHost(ones, n)
	a, b, c := be.Zeros(n), be.Zeros(n), be.Zeros(n)
	be.Dropout(a, x, p, 7)
	be.Dropout(b, x, p, 7)
	be.Dropout(c, x, p, 8)
	kept, differ := 0, 0
	for i, v := range Data(a) {
		if v != Data(b)[i] {
			t.Fatalf("element %d: %v then %v with the same seed", i, v, Data(b)[i])
		}
		if v != 0 {
			kept++
			if math.Abs(float64(v)-1/(1-p)) > 1e-6 {
				t.Fatalf("kept element %d = %v, want %v", i, v, 1/(1-p))
			}
		}
		if (v != 0) != (Data(c)[i] != 0) {
			differ++
		}
	}
	rate := float64(kept) / n
	if math.Abs(rate-(1-p)) > 0.01 {
		t.Errorf("kept fraction %.4f, want %.2f", rate, 1-p)
	}
	if differ < n/4 {
		t.Errorf("seeds 7 and 8 disagree on only %d of %d elements", differ, n)
	}
	be.Dropout(a, a, 0, 1) // p = 0 keeps everything, in place
	for i, v := range Data(a) {
		if v != Data(b)[i] {
			t.Fatalf("p = 0 changed element %d", i)
		}
	}
}
