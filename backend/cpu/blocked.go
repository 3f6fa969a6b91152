package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Blocked GEMM: eva's own SGEMM, for CPUs where it outruns OpenBLAS — on an AMD EPYC with AVX-512
// (2 cores), OpenBLAS 0.3.21's AVX-512 kernels reached 237–346 GFLOP/s on a transformer's shapes
// (237 on the output head's 2048 × 512 × 32000 product) and this GEMM with its AVX-512
// micro-kernel (blocked_amd64.s) 331–374 (BenchmarkGemm).
//
// The design is the classic one (Goto and van de Geijn, "Anatomy of high-performance matrix
// multiplication", ACM TOMS 2008): C is computed in tiles of kernelRows × kernelCols by a
// micro-kernel that keeps the whole tile in registers, broadcasting kernelRows values of op(a) per
// k and reading kernelCols values of a packed panel of op(b) (two vectors). A block of op(b)
// (kc × nc, ~1 MiB) is packed to stay in the core's L2 cache while every strip of kernelRows rows of
// op(a) streams past it; k is split into blocks of at most maxBlockK so that a strip stays in L1.
// Unlike op(b), op(a) is read where it lies: the micro-kernel takes its strides between rows and
// between k, so only a last strip of fewer than kernelRows rows is copied (zero-padded). Packing
// op(a) cost 14 % of the time on a transformer's shapes. Parallel calls split c into one rectangle
// per worker along its longer side, each worker packing the op(b) it reads, so workers share
// nothing but the inputs.

const (
	kernelRows = 12 // rows of a micro-tile: values of op(a) broadcast per k
	kernelCols = 32 // columns of a micro-tile: two 16-lane vectors of op(b) per k
)

// Blocking parameters; variables so tests can force many blocks on small inputs.
var (
	maxBlockK = 512 // k block: a 12 × 512 strip of op(a) is 24 KiB (L1)
	blockN    = 512 // columns of op(b) packed at once: 512 × 512 floats = 1 MiB (L2)
)

// microKernel computes the kernelRows × kernelCols tile c = alpha·(a·b̃) (+ c when load): row i of
// the strip a has its value at depth p at a[p·ds + i·ls], b̃ holds kc groups of kernelCols values,
// and c's rows are ldc elements apart. avx512Kernel is the assembly on CPUs that have it, goKernel
// elsewhere (tests run the driver with either).
type microKernel func(kc int, a []float32, ls, ds int, b, c []float32, ldc int, alpha float32, load bool)

// goKernel is the micro-kernel in plain Go: the reference the assembly is tested against, and
// what tests of the driver run where the assembly cannot.
func goKernel(kc int, a []float32, ls, ds int, b, c []float32, ldc int, alpha float32, load bool) {
	var acc [kernelRows][kernelCols]float32
	for p := range kc {
		bv := b[p*kernelCols : (p+1)*kernelCols]
		for i := range kernelRows {
			x, row := a[p*ds+i*ls], &acc[i]
			for j, y := range bv {
				row[j] += x * y
			}
		}
	}
	for i := range kernelRows {
		row := c[i*ldc : i*ldc+kernelCols]
		for j := range row {
			v := alpha * acc[i][j]
			if load {
				v += row[j]
			}
			row[j] = v
		}
	}
}

// singleThreadedRegions counts the callers inside singleThreadedBLAS: while one is active, blocked
// GEMMs run on the calling goroutine, as OpenBLAS does on its process-wide thread count.
var singleThreadedRegions atomic.Int32

// minParallelGemm is the product size m·n·k below which a blocked GEMM runs on one goroutine.
const minParallelGemm = 1 << 21

// blockedGemm computes c = alpha·op(a)·op(b) + beta·c with kernel, on up to runtime.GOMAXPROCS
// goroutines (see sgemmFunc for the operands; alpha ≠ 0 and m, n, k > 0 have been checked).
func blockedGemm(kernel microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g := gemmOperands{kernel: kernel, transA: transA, transB: transB, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	workers := runtime.GOMAXPROCS(0)
	if singleThreadedRegions.Load() > 0 || m*n*k < minParallelGemm {
		workers = 1
	}
	// Split the longer side: each worker packs the whole of the other operand, so the duplicated
	// packing is the smaller one.
	alongN := n > m
	side, unit := m, kernelRows
	if alongN {
		side, unit = n, kernelCols
	}
	workers = max(1, min(workers, side/(4*unit)))
	if workers == 1 {
		g.rect(0, m, 0, n)
		return
	}
	units := (side + unit - 1) / unit
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := min(side, w*units/workers*unit), min(side, (w+1)*units/workers*unit)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if alongN {
				g.rect(0, m, lo, hi)
			} else {
				g.rect(lo, hi, 0, n)
			}
		}()
	}
	wg.Wait()
}

// gemmOperands is one product as blockedGemm was given it.
type gemmOperands struct {
	kernel         microKernel
	transA, transB bool
	k              int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

// packBuffers holds one worker's packed op(b) block and edge strip between calls.
type packBuffers struct{ b, strip, tile []float32 }

var packPool = sync.Pool{New: func() any { return new(packBuffers) }}

// grow returns s resized to n elements, reallocating only when its capacity is short.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// rect computes the rectangle rows [i0, i1) × columns [j0, j1) of c.
func (g *gemmOperands) rect(i0, i1, j0, j1 int) {
	if g.beta != 0 && g.beta != 1 {
		scaleMatrix(g.c[i0*g.ldc+j0:], i1-i0, j1-j0, g.ldc, g.beta)
	}
	buf := packPool.Get().(*packBuffers)
	defer packPool.Put(buf)
	buf.tile = grow(buf.tile, kernelRows*kernelCols)
	ls, ds := g.lda, 1 // op(a)[i, p] = a[i, p]
	if g.transA {
		ls, ds = 1, g.lda // op(a)[i, p] = a[p, i]
	}
	blocksK := (g.k + maxBlockK - 1) / maxBlockK
	kc := (g.k + blocksK - 1) / blocksK         // equal k blocks
	short := i0 + (i1-i0)/kernelRows*kernelRows // first row of a last strip short of kernelRows
	for p0 := 0; p0 < g.k; p0 += kc {
		kb := min(kc, g.k-p0)
		load := p0 > 0 || g.beta != 0
		if short < i1 { // copy the short strip once per k block, zero-padded to kernelRows rows
			buf.strip = grow(buf.strip, kernelRows*kb)
			pack(buf.strip, kernelRows, i1-short, kb, g.a[short*ls+p0*ds:], g.lda, g.transA)
		}
		for c0 := j0; c0 < j1; c0 += blockN {
			cb := min(blockN, j1-c0)
			panels := (cb + kernelCols - 1) / kernelCols
			buf.b = grow(buf.b, panels*kernelCols*kb)
			g.packB(buf.b, c0, cb, p0, kb)
			for i := i0; i < i1; i += kernelRows {
				rows := min(kernelRows, i1-i)
				at, sls, sds := g.a[i*ls+p0*ds:], ls, ds
				if i >= short {
					at, sls, sds = buf.strip, 1, kernelRows
				}
				for q := range panels {
					bt := buf.b[q*kernelCols*kb : (q+1)*kernelCols*kb]
					j := c0 + q*kernelCols
					cols := min(kernelCols, c0+cb-j)
					if rows == kernelRows && cols == kernelCols {
						g.kernel(kb, at, sls, sds, bt, g.c[i*g.ldc+j:], g.ldc, g.alpha, load)
						continue
					}
					g.kernel(kb, at, sls, sds, bt, buf.tile, kernelCols, g.alpha, false)
					for ii := range rows {
						dst := g.c[(i+ii)*g.ldc+j : (i+ii)*g.ldc+j+cols]
						src := buf.tile[ii*kernelCols : ii*kernelCols+cols]
						if load {
							for jj, v := range src {
								dst[jj] += v
							}
						} else {
							copy(dst, src)
						}
					}
				}
			}
		}
	}
}

// packB copies rows [p0, p0+kb) and columns [c0, c0+cb) of op(b) into panels of kernelCols
// columns: panel q holds, for each k, its kernelCols values; columns past the end are zero.
// op(b)[p, j] is b[p, j], or b[j, p] when transposed.
func (g *gemmOperands) packB(dst []float32, c0, cb, p0, kb int) {
	if !g.transB && cb%kernelCols == 0 {
		// Whole panels of a row-major op(b): each row of the block is read once, in order, and
		// dealt out to the panels (reading one panel's narrow column down every row, then the next:
		// 9.2–9.7 against 10.4–12.0 GB/s on one EPYC core, BenchmarkPackB alternated).
		panels := cb / kernelCols
		for p := range kb {
			row := g.b[(p0+p)*g.ldb+c0 : (p0+p)*g.ldb+c0+cb]
			for q := range panels {
				*(*[kernelCols]float32)(dst[(q*kb+p)*kernelCols:]) = *(*[kernelCols]float32)(row[q*kernelCols:])
			}
		}
		return
	}
	for q := 0; q*kernelCols < cb; q++ {
		first := c0 + q*kernelCols
		off := p0*g.ldb + first
		if g.transB {
			off = first*g.ldb + p0
		}
		pack(dst[q*kernelCols*kb:(q+1)*kernelCols*kb], kernelCols, min(kernelCols, cb-q*kernelCols), kb, g.b[off:], g.ldb, !g.transB)
	}
}

// pack copies a block of kb depths × width lanes from the strided matrix src into dst, depth-major:
// dst[p·width + l] is lane l at depth p, and lanes from valid on are zero. With lanesContiguous,
// lane l at depth p is src[p·ld + l] (one run per depth), otherwise src[l·ld + p] (one per lane).
func pack(dst []float32, width, valid, kb int, src []float32, ld int, lanesContiguous bool) {
	if lanesContiguous {
		for p := range kb {
			out := dst[p*width : (p+1)*width]
			copy(out, src[p*ld:p*ld+valid])
			clear(out[valid:])
		}
		return
	}
	l := 0
	// Four lanes at a time: four reads in order and one 16-byte write per depth (5.5–5.8 GB/s on one
	// EPYC core against 4.5–4.6 one lane at a time, BenchmarkPackB alternated; eight were slower).
	for ; l+4 <= valid; l += 4 {
		r0, r1, r2, r3 := src[l*ld:l*ld+kb], src[(l+1)*ld:(l+1)*ld+kb], src[(l+2)*ld:(l+2)*ld+kb], src[(l+3)*ld:(l+3)*ld+kb]
		for p := range kb {
			*(*[4]float32)(dst[p*width+l:]) = [4]float32{r0[p], r1[p], r2[p], r3[p]}
		}
	}
	for ; l < width; l++ {
		if l >= valid {
			for p := range kb {
				dst[p*width+l] = 0
			}
			continue
		}
		for p, v := range src[l*ld : l*ld+kb] {
			dst[p*width+l] = v
		}
	}
}
