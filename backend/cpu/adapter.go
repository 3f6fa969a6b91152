package cpu

import (
	"fmt"

	"github.com/eva-lora/eva/tensor"
)

// MulRowVector writes out[i, :] = x[i, :]·v for x, out [N, D] and v [D]; out may alias x.
func (be *Backend) MulRowVector(out, x, v *tensor.Tensor) {
	n, d := matrix("MulRowVector", "x", x)
	mustShape("MulRowVector", "out", out, n, d)
	mustShape("MulRowVector", "v", v, d)
	os, xs, vs := Data(out), Data(x), Data(v)
	parallelFor(n, d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o, r := os[i*d:(i+1)*d], xs[i*d:(i+1)*d]
			for j, s := range vs {
				o[j] = r[j] * s
			}
		}
	})
}

// ScaleRows writes out[i, :] = x[i, :]·v[i] for x, out [N, D] and v [N]; out may alias x.
func (be *Backend) ScaleRows(out, x, v *tensor.Tensor) {
	n, d := matrix("ScaleRows", "x", x)
	mustShape("ScaleRows", "out", out, n, d)
	mustShape("ScaleRows", "v", v, n)
	os, xs, vs := Data(out), Data(x), Data(v)
	parallelFor(n, d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			vecScaleInto(os[i*d:(i+1)*d], xs[i*d:(i+1)*d], vs[i])
		}
	})
}

// RowDots writes dst[i] = Σⱼ a[i, j]·b[i, j] for a, b [N, D] and dst [N], accumulating in float64.
func (be *Backend) RowDots(dst, a, b *tensor.Tensor) {
	n, d := matrix("RowDots", "a", a)
	mustShape("RowDots", "b", b, n, d)
	mustShape("RowDots", "dst", dst, n)
	ds, as, bs := Data(dst), Data(a), Data(b)
	parallelFor(n, d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ra, rb := as[i*d:(i+1)*d], bs[i*d:(i+1)*d]
			var s float64
			for j, v := range ra {
				s += float64(v) * float64(rb[j])
			}
			ds[i] = float32(s)
		}
	})
}

// ColDots accumulates dst[j] += Σᵢ a[i, j]·b[i, j] for a, b [N, D] and dst [D]. Goroutines own
// disjoint column ranges, so the result does not depend on their number.
func (be *Backend) ColDots(dst, a, b *tensor.Tensor) {
	n, d := matrix("ColDots", "a", a)
	mustShape("ColDots", "b", b, n, d)
	mustShape("ColDots", "dst", dst, d)
	ds, as, bs := Data(dst), Data(a), Data(b)
	forColumns(n, d, func(c0, c1 int) {
		acc := make([]float64, c1-c0)
		for i := range n {
			ra, rb := as[i*d+c0:i*d+c1], bs[i*d+c0:i*d+c1]
			for j := range acc {
				acc[j] += float64(ra[j]) * float64(rb[j])
			}
		}
		for j, s := range acc {
			ds[c0+j] += float32(s)
		}
	})
}

// Dropout writes out = x·keep/(1−p) with keep[i] = [u(seed, i) ≥ p], u uniform in [0, 1) from a
// SplitMix64 hash of the seed and the element index; out may alias x.
func (be *Backend) Dropout(out, x *tensor.Tensor, p float32, seed uint64) {
	mustLen("Dropout", "x", x, out.Len())
	if p < 0 || p >= 1 {
		panic(fmt.Sprintf("cpu.Dropout: p = %v, want [0, 1)", p))
	}
	os, xs := Data(out), Data(x)
	scale := 1 / (1 - p)
	parallelFor(len(os), 4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if DropoutKeep(seed, i, p) {
				os[i] = xs[i] * scale
			} else {
				os[i] = 0
			}
		}
	})
}

// DropoutKeep reports whether element i survives dropout with probability p under seed: the
// reference definition of the mask that every backend's Dropout reproduces.
func DropoutKeep(seed uint64, i int, p float32) bool {
	z := seed + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	u := float32(z>>40) / (1 << 24) // 24 random bits: exact in float32
	return u >= p
}

func vecScaleInto(dst, src []float32, s float32) {
	for j, v := range src {
		dst[j] = v * s
	}
}
