package cpu

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eva-lora/eva/internal/openblas"

	"github.com/eva-lora/eva/tensor"
)

// gemmShape is one benchmarked product: c [M, N] = op(a)·op(b) with inner dimension K.
type gemmShape struct {
	m, k, n        int
	transA, transB bool
}

func (s gemmShape) String() string {
	op := func(t bool) string {
		if t {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%dx%dx%d_%s%s", s.m, s.k, s.n, op(s.transA), op(s.transB))
}

// operands returns random inputs of the product's shape (op(a) and op(b) stored as the
// transposes say) and an output.
func (s gemmShape) operands(be *Backend) (a, w, c *tensor.Tensor) {
	rng := newRand(90)
	a = be.FromHost(randSlice(rng, s.m*s.k, 1), s.m, s.k)
	if s.transA {
		a = a.Reshape(s.k, s.m)
	}
	w = be.FromHost(randSlice(rng, s.k*s.n, 1), s.k, s.n)
	if s.transB {
		w = w.Reshape(s.n, s.k)
	}
	return a, w, be.Zeros(s.m, s.n)
}

// blasAndBlocked returns backends that run every product through the BLAS, and large ones
// through the blocked GEMM's assembly (nil where the CPU cannot run it).
func blasAndBlocked() (blas, blocked *Backend) {
	be := New()
	blas = &Backend{gemm: be.gemm, blas: be.blas, blasThreaded: be.blasThreaded}
	if nativeKernel != nil {
		blocked = &Backend{gemm: be.gemm, blas: be.blas, blasThreaded: be.blasThreaded, kernel: nativeKernel}
	}
	return blas, blocked
}

func benchGemm(b *testing.B, be *Backend, s gemmShape) {
	a, w, c := s.operands(be)
	for b.Loop() {
		be.Gemm(s.transA, s.transB, 1, a, w, 0, c)
	}
	b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemm measures the default GEMM at a cube and at the shapes of a small transformer's
// linear layers (2048 tokens, hidden 512, MLP 1408, vocabulary 32000). Names read MxKxN_op(a)op(b):
// a layer's forward is y = x·Wᵀ (NT, W stored [out, in]), its backward dx = dy·W (NN) and
// dW = dyᵀ·x (TN).
// Where the CPU runs the blocked GEMM's assembly, each shape runs with it ("blocked") and with
// the BLAS alone ("blas"), side by side.
func BenchmarkGemm(b *testing.B) {
	b.Logf("GEMM: %s", New().BLAS())
	blas, blocked := blasAndBlocked()
	impls := map[string]*Backend{"blas": blas}
	if blocked != nil {
		impls["blocked"] = blocked
	}
	for _, s := range []gemmShape{
		{1024, 1024, 1024, false, false},
		{2048, 512, 512, false, true},
		{2048, 512, 1408, false, true},
		{2048, 1408, 512, false, true},
		{2048, 512, 32000, false, true},
		{2048, 1408, 512, false, false},
		{1408, 2048, 512, true, false},
		{2048, 32000, 512, false, false},
		{256, 64, 256, false, true},
	} {
		for _, name := range []string{"blas", "blocked"} {
			if be := impls[name]; be != nil {
				b.Run(s.String()+"/"+name, func(b *testing.B) { benchGemm(b, be, s) })
			}
		}
	}
}

// BenchmarkGemmTune times the blocked GEMM with several blockings (k block and column block, from
// EVA_BENCH_TUNE_KC and EVA_BENCH_TUNE_NC when set) next to the BLAS on a transformer's shapes, round-robin so that a noisy
// machine's slow spells hit every candidate alike, and logs each one's median GFLOP/s per shape.
// It takes a minute or more, so it runs only when asked:
// EVA_BENCH_TUNE=1 go test -run '^$' -bench GemmTune -benchtime 1x ./backend/cpu.
func BenchmarkGemmTune(b *testing.B) {
	blas, blocked := blasAndBlocked()
	if blocked == nil {
		b.Skip("no assembly micro-kernel on this CPU")
	}
	if os.Getenv("EVA_BENCH_TUNE") == "" {
		b.Skip("set EVA_BENCH_TUNE=1 to run the blocking sweep")
	}
	type cand struct{ kc, nc int }
	var cands []cand
	for _, kc := range tuneList("EVA_BENCH_TUNE_KC", 128, 256, 384, 512) {
		for _, nc := range tuneList("EVA_BENCH_TUNE_NC", 256, 512, 1024) {
			cands = append(cands, cand{kc, nc})
		}
	}
	defer func(k, n int) { maxBlockK, blockN = k, n }(maxBlockK, blockN)
	for range b.N {
		for _, s := range []gemmShape{
			{2048, 512, 1408, false, true}, {2048, 1408, 512, false, true}, {2048, 512, 32000, false, true},
			{2048, 1408, 512, false, false}, {1408, 2048, 512, true, false},
		} {
			a, w, c := s.operands(blas)
			rate := func(be *Backend) float64 {
				start := time.Now()
				be.Gemm(s.transA, s.transB, 1, a, w, 0, c)
				return 2 * float64(s.m*s.n*s.k) / time.Since(start).Seconds() / 1e9
			}
			rates := make([][]float64, len(cands)+1)
			for range 7 {
				rates[0] = append(rates[0], rate(blas))
				rate(blocked) // untimed: the first call after the BLAS's ran slow
				for i, cd := range cands {
					maxBlockK, blockN = cd.kc, cd.nc
					rates[i+1] = append(rates[i+1], rate(blocked))
				}
			}
			line := fmt.Sprintf("%s blas %.0f |", s, median(rates[0]))
			for i, cd := range cands {
				line += fmt.Sprintf(" %d/%d %.0f", cd.kc, cd.nc, median(rates[i+1]))
			}
			b.Log(line)
		}
	}
}

// tuneList returns the comma-separated integers of the environment variable name, or def.
func tuneList(name string, def ...int) []int {
	var out []int
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// BenchmarkMicroKernel runs the assembly micro-kernel alone on a strip and panel that stay in L1
// (kc 128: 6 KiB and 16 KiB), one goroutine: the ceiling the blocked GEMM can reach on one core.
func BenchmarkMicroKernel(b *testing.B) {
	if nativeKernel == nil {
		b.Skip("no assembly micro-kernel on this CPU")
	}
	const kc = 128
	rng := newRand(93)
	a, p := randSlice(rng, kc*kernelRows, 1), randSlice(rng, kc*kernelCols, 1)
	c := make([]float32, kernelRows*kernelCols)
	for b.Loop() {
		nativeKernel(kc, a, 1, kernelRows, p, c, kernelCols, 1, false)
	}
	b.ReportMetric(2*kernelRows*kernelCols*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkPackB packs 512 × 512 blocks of op(b) as the blocked GEMM does, from a weight of the
// output head's shape (32000 × 512): lanes contiguous (op(b) = W, an input gradient's product) and
// transposed (op(b) = Wᵀ, a forward product). One goroutine; GB/s counts the floats written.
func BenchmarkPackB(b *testing.B) {
	const rows, cols, kb, cb = 32000, 512, 512, 512
	w := randSlice(newRand(5), rows*cols, 1)
	for _, transB := range []bool{false, true} {
		name := "lanes-contiguous"
		if transB {
			name = "transposed"
		}
		b.Run(name, func(b *testing.B) {
			g := gemmOperands{transB: transB, b: w, ldb: cols}
			dst := make([]float32, kb*cb)
			blocks := rows / cb
			i := 0
			for b.Loop() {
				c0, p0 := (i%blocks)*cb, 0 // op(b) = Wᵀ: columns are rows of W
				if !transB {
					c0, p0 = 0, (i%blocks)*kb // op(b) = W: depths are rows of W
				}
				g.packB(dst, c0, cb, p0, kb)
				i++
			}
			b.ReportMetric(4*kb*cb*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// BenchmarkGemmPureGo measures the gonum fallback at 1024³ for comparison.
func BenchmarkGemmPureGo(b *testing.B) {
	benchGemm(b, &Backend{gemm: sgemmGo, blas: "gonum"}, gemmShape{1024, 1024, 1024, false, false})
}

// BenchmarkAttention runs forward and backward for B=8, S=256, H=8, Dh=64 with and without
// grouped key/value heads. GFLOP/s counts the six S×S×Dh products of forward plus backward without
// the causal saving.
func BenchmarkAttention(b *testing.B) {
	const bs, s, h, dh = 8, 256, 8, 64
	for _, kv := range []int{8, 2} {
		b.Run(fmt.Sprintf("B%d_S%d_H%d_KV%d_Dh%d", bs, s, h, kv, dh), func(b *testing.B) {
			be := New()
			rng := newRand(91)
			q := be.FromHost(randSlice(rng, bs*s*h*dh, 1), bs, s, h, dh)
			k := be.FromHost(randSlice(rng, bs*s*kv*dh, 1), bs, s, kv, dh)
			v := be.FromHost(randSlice(rng, bs*s*kv*dh, 1), bs, s, kv, dh)
			out, dout, dq := be.Zeros(bs, s, h, dh), be.FromHost(randSlice(rng, bs*s*h*dh, 1), bs, s, h, dh), be.Zeros(bs, s, h, dh)
			dk, dv, probs := be.Zeros(bs, s, kv, dh), be.Zeros(bs, s, kv, dh), be.Zeros(bs, h, s, s)
			lengths := make([]int32, bs)
			for i := range lengths {
				lengths[i] = int32(s - 16*i) // uneven padding, as in real batches
			}
			b.ResetTimer()
			for b.Loop() {
				be.AttentionForward(out, probs, q, k, v, lengths, 0, 0.125)
				be.AttentionBackward(dq, dk, dv, dout, q, k, v, probs, lengths, 0, 0.125)
			}
			flops := 6 * 2 * float64(bs*h*s*s*dh)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkRMSNorm measures forward and backward on the activations of B=8, S=256, D=512.
func BenchmarkRMSNorm(b *testing.B) {
	const n, d = 8 * 256, 8 * 64
	be := New()
	rng := newRand(92)
	x, w := be.FromHost(randSlice(rng, n*d, 1), n, d), be.FromHost(randSlice(rng, d, 1), d)
	out, rstd, dx, dw := be.Zeros(n, d), be.Zeros(n), be.Zeros(n, d), be.Zeros(d)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			be.RMSNormForward(out, rstd, x, w, 1e-6)
		}
		reportBandwidth(b, 2*n*d)
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			be.RMSNormBackward(dx, dw, out, x, w, rstd)
		}
		reportBandwidth(b, 4*n*d)
	})
}

// BenchmarkElementwise measures the transcendental kernels on an MLP activation [2048, 1408] and
// the loss on [512, 32000] logits.
func BenchmarkElementwise(b *testing.B) {
	be := New()
	rng := newRand(93)
	const n, f = 2048, 1408
	g, u, out := be.FromHost(randSlice(rng, n*f, 4), n, f), be.FromHost(randSlice(rng, n*f, 1), n, f), be.Zeros(n, f)
	dg, du := be.Zeros(n, f), be.Zeros(n, f)
	b.Run("SwiGLUForward", func(b *testing.B) {
		for b.Loop() {
			be.SwiGLUForward(out, g, u)
		}
		reportBandwidth(b, 3*n*f)
	})
	b.Run("SwiGLUBackward", func(b *testing.B) {
		for b.Loop() {
			be.SwiGLUBackward(dg, du, out, g, u)
		}
		reportBandwidth(b, 7*n*f)
	})
	b.Run("GELUTanhForward", func(b *testing.B) {
		for b.Loop() {
			be.GELUForward(out, g, true)
		}
		reportBandwidth(b, 2*n*f)
	})
	const rows, vocab = 512, 32000
	logits, dl, losses := be.FromHost(randSlice(rng, rows*vocab, 5), rows, vocab), be.Zeros(rows, vocab), be.Zeros(rows)
	targets := make([]int32, rows)
	for i := range targets {
		targets[i] = int32(i * 61 % vocab)
	}
	b.Run("CrossEntropyLossGrad", func(b *testing.B) {
		for b.Loop() {
			be.CrossEntropyLossGrad(losses, dl, logits, targets, 1.0/rows)
		}
		reportBandwidth(b, 3*rows*vocab)
	})
}

// reportBandwidth reports the float32 traffic of one iteration moving elems elements, in GB/s.
func reportBandwidth(b *testing.B, elems int) {
	b.ReportMetric(4*float64(elems)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

var _ tensor.Backend = New()

// BenchmarkGemmThreading compares, in one run, the backend's GEMM (OpenBLAS on its own
// runtime.GOMAXPROCS threads) with the design it replaced: single-threaded OpenBLAS on
// goroutine panels of the output (see goroutinePanels), at the 1024³ cube and at a training step's
// shapes (2048 tokens, hidden 512, MLP 1408, vocabulary 32000). Each pair alternates so that load
// affects both alike. On the 2-core development machine (-benchtime 1s -count 3, medians) the
// panels were 17–24% slower at 1024³ and on the per-layer shapes (151 vs 187 GFLOP/s at 1024³,
// 132 vs 174 for 512x2048x512_TN) and 7% faster on the vocabulary head (195 vs 182).
func BenchmarkGemmThreading(b *testing.B) {
	be := New()
	if !be.blasThreaded {
		b.Skip("OpenBLAS is not loaded")
	}
	for _, s := range []gemmShape{
		{1024, 1024, 1024, false, false},
		{2048, 512, 512, false, true},
		{2048, 512, 1408, false, false},
		{512, 2048, 512, true, false},
		{2048, 512, 32000, false, true},
	} {
		b.Run(s.String()+"/openblas-threads", func(b *testing.B) { benchGemm(b, be, s) })
		b.Run(s.String()+"/goroutine-panels", func(b *testing.B) {
			panels := &Backend{gemm: goroutinePanels(be.gemm), blas: "panels"}
			openblas.WithThreads(1, func() { benchGemm(b, panels, s) })
		})
	}
}

// goroutinePanels wraps a single-threaded GEMM so that it computes a product as row panels of c
// (column panels when c is wider than tall), four per goroutine, handed out as goroutines finish.
func goroutinePanels(gemm sgemmFunc) sgemmFunc {
	return func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		rows := m >= n
		size := max(16, max(m, n)/(4*runtime.GOMAXPROCS(0))/16*16)
		parallelFor((max(m, n)+size-1)/size, minParallelWork, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				p0, p1 := p*size, min((p+1)*size, max(m, n))
				ap, bp, cp, pm, pn := a, b, c, m, n
				if rows {
					pm, cp = p1-p0, c[p0*ldc:]
					if ap = a[p0:]; !transA {
						ap = a[p0*lda:]
					}
				} else {
					pn, cp = p1-p0, c[p0:]
					if bp = b[p0:]; transB {
						bp = b[p0*ldb:]
					}
				}
				gemm(transA, transB, pm, pn, k, alpha, ap, lda, bp, ldb, beta, cp, ldc)
			}
		})
	}
}
