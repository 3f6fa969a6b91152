package cpu

import "testing"

func TestWrapSharesMemory(t *testing.T) {
	be := New()
	data := []float32{1, 2, 3, 4, 5, 6}
	x := be.Wrap(data, 2, 3)
	data[4] = 50
	if got := Data(x)[4]; got != 50 {
		t.Fatalf("Wrap copied its input: element 4 is %v after writing 50", got)
	}
	host := be.ToHost(x)
	host[0] = -1
	if data[0] != 1 {
		t.Fatal("ToHost returned storage, not a copy")
	}
	mustPanic(t, "Wrap with a mismatched shape", func() { be.Wrap(data, 4, 2) })
}

// TestKernelsRespectViews runs kernels on row views and checks that the rows outside the view keep
// their values, so offsets are honoured everywhere.
func TestKernelsRespectViews(t *testing.T) {
	be := New()
	rng := newRand(80)
	const n, d = 6, 5
	base := randSlice(rng, n*d, 1)
	x := be.FromHost(base, n, d)
	view := x.Rows(2, 4)

	be.Fill(view, 7)
	be.Gemm(false, false, 1, be.FromHost(randSlice(rng, 2*3, 1), 2, 3), be.FromHost(randSlice(rng, 3*d, 1), 3, d), 0, view)
	be.Scale(view, 2)
	for i, v := range Data(x) {
		row := i / d
		if (row < 2 || row >= 4) && v != base[i] {
			t.Fatalf("element %d (row %d) outside the view changed from %v to %v", i, row, base[i], v)
		}
	}
	if got := Data(view); len(got) != 2*d || cap(got) != 2*d {
		t.Fatalf("Data of a 2×%d view has len %d cap %d", d, len(got), cap(got))
	}

	src := be.FromHost(randSlice(rng, 2*d, 1), 2, d)
	be.Copy(view, src)
	assertClose(t, "Copy into a view", Data(view), to64(Data(src)), 0)
	mustPanic(t, "Copy with different element counts", func() { be.Copy(view, be.Zeros(3, d)) })
}

func TestFill(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		be := New()
		x := be.Zeros(1000)
		be.Fill(x, 2.5)
		for i, v := range Data(x) {
			if v != 2.5 {
				t.Fatalf("element %d is %v after Fill(2.5)", i, v)
			}
		}
	})
}
