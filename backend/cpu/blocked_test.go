package cpu

import (
	"math"
	"testing"
)

// kernels lists the blocked GEMM's micro-kernels this CPU runs.
func kernels() map[string]microKernel {
	k := map[string]microKernel{"go": goKernel}
	if nativeKernel != nil {
		k["native"] = nativeKernel
	}
	return k
}

// TestBlockedGemmBlocks shrinks the blocking parameters so that small products cross every block
// edge (several k blocks, several packed blocks of rows and columns, partial strips and panels),
// with leading dimensions wider than the matrices, alpha ≠ 1 and beta ∈ {0, 1, other}, on one
// worker and on several.
func TestBlockedGemmBlocks(t *testing.T) {
	defer func(k, n int) { maxBlockK, blockN = k, n }(maxBlockK, blockN)
	maxBlockK, blockN = 40, 96
	rng := newRand(7)
	for kname, kernel := range kernels() {
		for _, size := range [][3]int{{12, 32, 1}, {13, 33, 41}, {200, 100, 90}, {100, 300, 130}, {37, 517, 120}} {
			m, n, k := size[0], size[1], size[2]
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for _, beta := range []float32{0, 1, -0.6} {
					ar, ac, br, bc := m, k, k, n
					if tr[0] {
						ar, ac = k, m
					}
					if tr[1] {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+3, bc+5, n+2
					a, b, c := randSlice(rng, ar*lda, 1), randSlice(rng, br*ldb, 1), randSlice(rng, m*ldc, 1)
					want := make([]float64, m*ldc)
					for i := range m {
						for j := range ldc {
							old := float64(c[i*ldc+j])
							if j >= n { // outside the product: must stay as it was
								want[i*ldc+j] = old
								continue
							}
							var s float64
							for p := range k {
								ai, bi := i*lda+p, p*ldb+j
								if tr[0] {
									ai = p*lda + i
								}
								if tr[1] {
									bi = j*ldb + p
								}
								x, y := a[ai], b[bi]
								s += float64(x) * float64(y)
							}
							want[i*ldc+j] = 1.5*s + float64(beta)*old
							if beta == 0 {
								c[i*ldc+j] = float32(math.NaN())
							}
						}
					}
					blockedGemm(kernel, tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, beta, c, ldc)
					assertClose(t, name("%s %dx%dx%d tA=%v tB=%v beta=%v", kname, m, n, k, tr[0], tr[1], beta),
						c, want, 2e-5*math.Sqrt(float64(k)))
				}
			}
		}
	}
}

// TestNativeKernelMatchesGo compares the assembly micro-kernel with the Go one on a single tile,
// in both store modes; the two sum in the same order with fused multiply-adds, so they may differ
// only by the rounding of the products the Go kernel does not fuse.
func TestNativeKernelMatchesGo(t *testing.T) {
	if nativeKernel == nil {
		t.Skip("no assembly micro-kernel on this CPU")
	}
	rng := newRand(8)
	for _, kc := range []int{1, 2, 17, 512} {
		b := randSlice(rng, kc*kernelCols, 1)
		const ldc = kernelCols + 7
		// op(a) strips packed (ls 1, ds 12), row-major with a wider row (ls kc+3, ds 1) and
		// transposed (ls 1, ds 15).
		for _, st := range [][2]int{{1, kernelRows}, {kc + 3, 1}, {1, 15}} {
			a := randSlice(rng, (kc-1)*st[1]+(kernelRows-1)*st[0]+1, 1)
			for _, load := range []bool{false, true} {
				init := randSlice(rng, kernelRows*ldc, 1)
				got, want := append([]float32(nil), init...), append([]float32(nil), init...)
				nativeKernel(kc, a, st[0], st[1], b, got, ldc, -0.75, load)
				goKernel(kc, a, st[0], st[1], b, want, ldc, -0.75, load)
				assertClose(t, name("kc %d strides %v load %v", kc, st, load), got, to64(want), 1e-5*math.Sqrt(float64(kc)))
			}
		}
	}
}
