package cpu

import "testing"

func TestElementwise(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(10)
		be := New()
		const n, d = 7, 13
		x, y := randSlice(rng, n*d, 1), randSlice(rng, n*d, 1)
		x64, y64 := to64(x), to64(y)

		yt := be.FromHost(y, n, d)
		be.Axpy(0.5, be.FromHost(x, n*d), yt) // shapes may differ when element counts agree
		want := make([]float64, n*d)
		for i := range want {
			want[i] = y64[i] + 0.5*x64[i]
		}
		assertClose(t, "Axpy", Data(yt), want, 1e-6)

		at := be.FromHost(x, n, d)
		be.Add(at, at, be.FromHost(y, n, d)) // out aliases a
		for i := range want {
			want[i] = x64[i] + y64[i]
		}
		assertClose(t, "Add aliased", Data(at), want, 1e-6)

		be.Scale(at, -2)
		for i := range want {
			want[i] *= -2
		}
		assertClose(t, "Scale", Data(at), want, 1e-6)

		v := randSlice(rng, d, 1)
		xt := be.FromHost(x, n, d)
		be.AddRowVector(xt, be.FromHost(v, d))
		for i := range want {
			want[i] = x64[i] + float64(v[i%d])
		}
		assertClose(t, "AddRowVector", Data(xt), want, 1e-6)

		dst := be.FromHost(v, d)
		be.SumRows(dst, be.FromHost(x, n, d))
		sums := to64(v) // SumRows accumulates into dst
		for i, xv := range x64 {
			sums[i%d] += xv
		}
		assertClose(t, "SumRows", Data(dst), sums, 1e-6)
	})
}

func TestSliceAndAccumulateCols(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(11)
		be := New()
		const n, c, w, col0 = 7, 13, 5, 4
		src := randSlice(rng, n*c, 1)
		dst := be.Zeros(n, w)
		be.SliceCols(dst, be.FromHost(src, n, c), col0)
		want := make([]float64, 0, n*w)
		for i := range n {
			want = append(want, to64(src[i*c+col0:i*c+col0+w])...)
		}
		assertClose(t, "SliceCols", Data(dst), want, 0)

		acc := be.FromHost(src, n, c)
		add := randSlice(rng, n*w, 1)
		be.AccumulateCols(acc, be.FromHost(add, n, w), col0)
		full := to64(src)
		for i := range n {
			for j := range w {
				full[i*c+col0+j] += float64(add[i*w+j])
			}
		}
		assertClose(t, "AccumulateCols", Data(acc), full, 1e-6)
		mustPanic(t, "SliceCols past the last column", func() { be.SliceCols(dst, be.FromHost(src, n, c), c-w+1) })
	})
}
