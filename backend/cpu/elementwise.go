package cpu

import (
	"fmt"

	"github.com/eva-lora/eva/tensor"
)

// Elementwise kernels accept operands of any shapes with equal element counts (a [B, S, D] view
// and an [N, D] view of the same data are interchangeable).

// Axpy computes y += alpha·x elementwise.
func (be *Backend) Axpy(alpha float32, x, y *tensor.Tensor) {
	mustLen("Axpy", "x", x, y.Len())
	xs, ys := Data(x), Data(y)
	parallelFor(len(ys), 1, func(lo, hi int) {
		vecAxpy(ys[lo:hi], xs[lo:hi], alpha)
	})
}

// Add computes out = a + b elementwise; out may alias a or b.
func (be *Backend) Add(out, a, b *tensor.Tensor) {
	mustLen("Add", "a", a, out.Len())
	mustLen("Add", "b", b, out.Len())
	o, as, bs := Data(out), Data(a), Data(b)
	parallelFor(len(o), 1, func(lo, hi int) {
		vecAdd(o[lo:hi], as[lo:hi], bs[lo:hi])
	})
}

// Scale multiplies every element of t by alpha.
func (be *Backend) Scale(t *tensor.Tensor, alpha float32) {
	ts := Data(t)
	parallelFor(len(ts), 1, func(lo, hi int) {
		vecScale(ts[lo:hi], alpha)
	})
}

// AddRowVector adds v [D] to every row of x [N, D].
func (be *Backend) AddRowVector(x, v *tensor.Tensor) {
	_, d := matrix("AddRowVector", "x", x)
	mustShape("AddRowVector", "v", v, d)
	xs, vs := Data(x), Data(v)
	parallelFor(x.Dim(0), d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := xs[i*d : (i+1)*d]
			for j := range row {
				row[j] += vs[j]
			}
		}
	})
}

// SumRows accumulates the column sums of x [N, D] into dst [D]: dst += Σᵢ x[i, :]. Goroutines own
// disjoint column ranges, so the result does not depend on the number of goroutines.
func (be *Backend) SumRows(dst, x *tensor.Tensor) {
	n, d := matrix("SumRows", "x", x)
	mustShape("SumRows", "dst", dst, d)
	xs, ds := Data(x), Data(dst)
	forColumns(n, d, func(c0, c1 int) {
		acc := ds[c0:c1]
		for i := range n {
			row := xs[i*d+c0 : i*d+c1]
			for j := range acc {
				acc[j] += row[j]
			}
		}
	})
}

// forColumns runs body over disjoint column ranges of an n×d matrix in parallel. Column-sum kernels
// use it so that each output column has one writer and no reduction is needed.
func forColumns(n, d int, body func(c0, c1 int)) {
	const minCols = 16 // keep each range at least a cache line wide
	blocks := (d + minCols - 1) / minCols
	parallelFor(blocks, n*minCols, func(lo, hi int) {
		body(lo*minCols, min(hi*minCols, d))
	})
}

// colRange panics unless columns [col0, col0+w) lie inside a matrix with c columns.
func colRange(op string, col0, w, c int) {
	if col0 < 0 || col0+w > c {
		panic(fmt.Sprintf("cpu: %s: columns [%d, %d) outside %d columns", op, col0, col0+w, c))
	}
}

// SliceCols copies columns [col0, col0+W) of src [N, C] into dst [N, W].
func (be *Backend) SliceCols(dst, src *tensor.Tensor, col0 int) {
	n, c := matrix("SliceCols", "src", src)
	_, w := matrix("SliceCols", "dst", dst)
	mustShape("SliceCols", "dst", dst, n, w)
	colRange("SliceCols", col0, w, c)
	ds, ss := Data(dst), Data(src)
	parallelFor(n, w, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(ds[i*w:(i+1)*w], ss[i*c+col0:i*c+col0+w])
		}
	})
}

// AccumulateCols adds src [N, W] into columns [col0, col0+W) of dst [N, C].
func (be *Backend) AccumulateCols(dst, src *tensor.Tensor, col0 int) {
	n, c := matrix("AccumulateCols", "dst", dst)
	_, w := matrix("AccumulateCols", "src", src)
	mustShape("AccumulateCols", "src", src, n, w)
	colRange("AccumulateCols", col0, w, c)
	ds, ss := Data(dst), Data(src)
	parallelFor(n, w, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			drow, srow := ds[i*c+col0:i*c+col0+w], ss[i*w:(i+1)*w]
			for j := range drow {
				drow[j] += srow[j]
			}
		}
	})
}
