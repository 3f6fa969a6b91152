package cpu

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/eva-lora/eva/internal/openblas"
	"github.com/eva-lora/eva/tensor"
)

// sgemmFunc computes c = alpha·op(a)·op(b) + beta·c on row-major matrices: op(a) is m×k, op(b) is
// k×n and c is m×n, with leading dimensions lda, ldb, ldc (elements between consecutive rows). The
// slices start at each matrix's first element. Callers have checked the bounds, m, n, k > 0 and
// alpha ≠ 0. With beta = 0, c is not read.
type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// CBLAS enumeration values (cblas.h).
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// cblasSgemm is OpenBLAS's cblas_sgemm; blasint is 32-bit in Debian's libopenblas0.
var cblasSgemm func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32,
	b *float32, ldb int32, beta float32, c *float32, ldc int32)

var (
	sgemmOnce sync.Once
	sgemmImpl sgemmFunc
	sgemmDesc string
)

// defaultSgemm binds OpenBLAS once, on runtime.GOMAXPROCS threads, or returns the pure-Go fallback
// (warning once) when the library cannot be loaded. threaded reports OpenBLAS.
func defaultSgemm() (fn sgemmFunc, desc string, threaded bool) {
	sgemmOnce.Do(func() {
		if err := openblas.Bind(&cblasSgemm, "cblas_sgemm"); err != nil {
			openblas.WarnFallback("cpu GEMM", err)
			sgemmImpl, sgemmDesc = sgemmGo, "gonum (pure Go)"
			return
		}
		openblas.SetThreads(runtime.GOMAXPROCS(0))
		sgemmImpl, sgemmDesc = sgemmOpenBLAS, fmt.Sprintf("openblas (%s)", openblas.Path())
	})
	return sgemmImpl, sgemmDesc, sgemmDesc != "gonum (pure Go)"
}

// singleThreadedBLAS runs f, which issues products from parallel goroutines (attention's per-head
// GEMMs), with OpenBLAS on one thread: otherwise each goroutine's call would start OpenBLAS's
// worker threads too, and they would fight over the cores. The thread count is process-wide and
// restored afterwards; a Gemm that another goroutine runs meanwhile runs on one thread (slower,
// still correct). The blocked GEMM likewise runs on the calling goroutine while any such region is
// active. gonum's fallback composes with goroutines and needs no switch.
func (be *Backend) singleThreadedBLAS(f func()) {
	if be.kernel != nil {
		singleThreadedRegions.Add(1)
		defer singleThreadedRegions.Add(-1)
	}
	if !be.blasThreaded {
		f()
		return
	}
	openblas.WithThreads(1, f)
}

func cblasTranspose(t bool) int32 {
	if t {
		return cblasTrans
	}
	return cblasNoTrans
}

// sgemmOpenBLAS calls cblas_sgemm. OpenBLAS does not read c when beta = 0.
func sgemmOpenBLAS(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	cblasSgemm(cblasRowMajor, cblasTranspose(transA), cblasTranspose(transB), int32(m), int32(n), int32(k),
		alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
}

func gonumTranspose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// sgemmGo is the pure-Go fallback (gonum). gonum zeroes c when beta = 0, so NaN in c is ignored too.
func sgemmGo(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(gonumTranspose(transA), gonumTranspose(transB), m, n, k,
		alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkOperand panics unless s holds a rows×cols row-major matrix with leading dimension ld.
func checkOperand(name string, s []float32, rows, cols, ld int) {
	if ld < max(1, cols) || ld > math.MaxInt32 || rows > math.MaxInt32 || cols > math.MaxInt32 {
		panic(fmt.Sprintf("cpu: gemm: %s is %d×%d with leading dimension %d", name, rows, cols, ld))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("cpu: gemm: %s (%d×%d, ld %d) needs %d elements, has %d", name, rows, cols, ld, (rows-1)*ld+cols, len(s)))
	}
}

// sgemm is the strided entry every kernel uses: c = alpha·op(a)·op(b) + beta·c, where a, b and c
// start at the first element of each matrix (a strided per-head view is a[offset:] with its row
// stride as leading dimension). op(a) is m×k, op(b) is k×n, c is m×n. With beta = 0, c is
// overwritten and its old contents (NaN included) are ignored.
func (be *Backend) sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkOperand("a", a, ar, ac, lda)
	checkOperand("b", b, br, bc, ldb)
	checkOperand("c", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleMatrix(c, m, n, ldc, beta)
		return
	}
	if be.kernel != nil && blockedWorth(m, n, k) {
		blockedGemm(be.kernel, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	be.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// blockedWorth reports whether a product is large enough in every dimension for the blocked GEMM;
// thinner ones (a LoRA rank in one dimension) keep OpenBLAS's small-matrix kernels.
func blockedWorth(m, n, k int) bool { return min(m, n, k) >= 64 }

// scaleMatrix sets c = beta·c for an m×n matrix; beta = 0 writes zeros without reading c.
func scaleMatrix(c []float32, m, n, ldc int, beta float32) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// Gemm computes c = alpha·op(a)·op(b) + beta·c for rank-2 tensors; with beta = 0 the previous
// contents of c are ignored. c must not overlap a or b.
func (be *Backend) Gemm(transA, transB bool, alpha float32, a, b *tensor.Tensor, beta float32, c *tensor.Tensor) {
	ar, ac := matrix("Gemm", "a", a)
	br, bc := matrix("Gemm", "b", b)
	m, n := matrix("Gemm", "c", c)
	am, ak := ar, ac
	if transA {
		am, ak = ac, ar
	}
	bk, bn := br, bc
	if transB {
		bk, bn = bc, br
	}
	if am != m || bn != n || ak != bk {
		panic(fmt.Sprintf("cpu: Gemm(transA=%v, transB=%v): shapes %v · %v → %v do not match",
			transA, transB, a.Shape(), b.Shape(), c.Shape()))
	}
	lda, ldb := max(1, ac), max(1, bc)
	if be.skinny(m, n, ak) {
		be.panelGemm(transA, transB, m, n, ak, alpha, Data(a), lda, Data(b), ldb, beta, Data(c), max(1, n))
		return
	}
	be.sgemm(transA, transB, m, n, ak, alpha, Data(a), lda, Data(b), ldb, beta, Data(c), n)
}

// skinny reports whether a product is thin in one dimension (a LoRA rank) yet large enough to
// split: OpenBLAS parallelises such shapes poorly, so panelGemm runs them as one single-threaded
// product per core instead.
func (be *Backend) skinny(m, n, k int) bool {
	return be.blasThreaded && runtime.GOMAXPROCS(0) > 1 && min(m, n, k) <= 64 && m*n*k >= 1<<20 && max(m, n) >= 256
}

// panelGemm splits c along its longer dimension into one panel per core and computes each with
// single-threaded BLAS from its own goroutine. Each panel is an independent product over the full k,
// so the result is the same whatever the number of panels.
func (be *Backend) panelGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := runtime.GOMAXPROCS(0)
	be.singleThreadedBLAS(func() {
		var wg sync.WaitGroup
		if m >= n {
			step := (m + p - 1) / p
			for lo := 0; lo < m; lo += step {
				hi := min(lo+step, m)
				aOff := lo * lda // rows of op(a) are rows of a, or columns when transposed
				if transA {
					aOff = lo
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					be.sgemm(transA, transB, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
				}()
			}
		} else {
			step := (n + p - 1) / p
			for lo := 0; lo < n; lo += step {
				hi := min(lo+step, n)
				bOff := lo // columns of op(b) are columns of b, or rows when transposed
				if transB {
					bOff = lo * ldb
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					be.sgemm(transA, transB, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc)
				}()
			}
		}
		wg.Wait()
	})
}
