package cpu

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// gemmImpls lists the GEMM implementations under test: the backend's default, the pure-Go fallback
// called directly, and the blocked GEMM (blocked.go) with the Go micro-kernel and, where the CPU
// runs it, the assembly one, each with the fallback for small products.
func gemmImpls(t *testing.T) map[string]*Backend {
	be := New()
	impls := map[string]*Backend{"default " + be.BLAS(): be}
	impls["gonum"] = &Backend{gemm: sgemmGo, blas: "gonum"}
	impls["blocked go"] = &Backend{gemm: sgemmGo, blas: "gonum", kernel: goKernel}
	if nativeKernel != nil {
		impls["blocked native"] = &Backend{gemm: sgemmGo, blas: "gonum", kernel: nativeKernel}
	}
	return impls
}

func TestGemmAllTransposes(t *testing.T) {
	rng := newRand(1)
	for implName, be := range gemmImpls(t) {
		// {150, 97, 200} and {40, 260, 230} are large enough for OpenBLAS to split the product across
		// its threads; the last three are skinny (a LoRA rank) and go through panelGemm, split along m,
		// along n, and with a thin k.
		for _, size := range [][3]int{{7, 13, 5}, {67, 45, 129}, {150, 97, 200}, {40, 260, 230}, {130, 200, 1100},
			{1100, 16, 600}, {16, 1100, 600}, {700, 900, 8}} {
			m, n, k := size[0], size[1], size[2]
			for _, transA := range []bool{false, true} {
				for _, transB := range []bool{false, true} {
					for _, beta := range []float32{0, 0.3} {
						a := randSlice(rng, m*k, 1)
						b := randSlice(rng, k*n, 1)
						c := randSlice(rng, m*n, 1)
						want := refGemm(transA, transB, m, n, k, 0.7, to64(a), to64(b), float64(beta), to64(c))
						if beta == 0 {
							for i := range c {
								c[i] = float32(math.NaN()) // beta = 0 must ignore c entirely
							}
						}
						ashape, bshape := []int{m, k}, []int{k, n}
						if transA {
							ashape = []int{k, m}
						}
						if transB {
							bshape = []int{n, k}
						}
						ct := be.Wrap(c, m, n)
						be.Gemm(transA, transB, 0.7, be.Wrap(a, ashape...), be.Wrap(b, bshape...), beta, ct)
						assertClose(t, name("%s %dx%dx%d tA=%v tB=%v beta=%v", implName, m, n, k, transA, transB, beta),
							Data(ct), want, 1e-5*math.Sqrt(float64(k)))
					}
				}
			}
		}
	}
}

// TestGemmStrided multiplies per-head sub-matrices in place, the way attention does: leading
// dimensions larger than the column count and slices starting at an offset.
// The second size is large enough in every dimension for the blocked GEMM.
func TestGemmStrided(t *testing.T) {
	rng := newRand(2)
	for _, sz := range [][7]int{{9, 6, 8, 32, 24, 20, 3}, {130, 70, 66, 200, 150, 90, 5}} {
		gemmStrided(t, rng, sz[0], sz[1], sz[2], sz[3], sz[4], sz[5], sz[6])
	}
}

func gemmStrided(t *testing.T, rng *rand.Rand, m, n, k, lda, ldb, ldc, off int) {
	for implName, be := range gemmImpls(t) {
		a := randSlice(rng, off+m*lda, 1)
		b := randSlice(rng, off+k*ldb, 1)
		c := randSlice(rng, off+m*ldc, 1)
		before := append([]float32(nil), c...)
		be.sgemm(false, false, m, n, k, 1.5, a[off:], lda, b[off:], ldb, 1, c[off:], ldc)
		pack := func(s []float32, rows, cols, ld int) []float64 {
			out := make([]float64, 0, rows*cols)
			for i := range rows {
				out = append(out, to64(s[off+i*ld:off+i*ld+cols])...)
			}
			return out
		}
		want := refGemm(false, false, m, n, k, 1.5, pack(a, m, k, lda), pack(b, k, n, ldb), 1, pack(before, m, n, ldc))
		got := make([]float32, 0, m*n)
		for i := range m {
			got = append(got, c[off+i*ldc:off+i*ldc+n]...)
		}
		assertClose(t, name("%s strided %dx%dx%d", implName, m, n, k), got, want, 1e-5*math.Sqrt(float64(k)))
		// Elements outside the m×n window (padding columns and the leading offset) are untouched.
		for i := range c {
			r, col := (i-off)/ldc, (i-off)%ldc
			inside := i >= off && r < m && col < n
			if !inside && c[i] != before[i] {
				t.Fatalf("%s: element %d outside the output window changed", implName, i)
			}
		}
	}
}

func TestGemmDegenerate(t *testing.T) {
	be := New()
	// k = 0: the product is empty, so c = beta·c; beta = 0 clears NaN.
	c := be.FromHost([]float32{1, float32(math.NaN()), 3, 4}, 2, 2)
	be.Gemm(false, false, 1, be.Zeros(2, 0), be.Zeros(0, 2), 0, c)
	assertClose(t, "k=0 beta=0", Data(c), []float64{0, 0, 0, 0}, 0)
	c = be.FromHost([]float32{1, 2, 3, 4}, 2, 2)
	be.Gemm(false, false, 1, be.Zeros(2, 0), be.Zeros(0, 2), 2, c)
	assertClose(t, "k=0 beta=2", Data(c), []float64{2, 4, 6, 8}, 0)
}

// TestGemmFallbackMatchesOpenBLAS compares the pure-Go path with OpenBLAS on a size large enough to
// use both libraries' blocked kernels.
func TestGemmFallbackMatchesOpenBLAS(t *testing.T) {
	if _, _, threaded := defaultSgemm(); !threaded {
		t.Skip("OpenBLAS is not loaded; nothing to compare the fallback with")
	}
	rng := newRand(3)
	const m, n, k = 150, 130, 300
	a, b := randSlice(rng, m*k, 1), randSlice(rng, n*k, 1)
	c1, c2 := randSlice(rng, m*n, 1), make([]float32, m*n)
	copy(c2, c1)
	sgemmOpenBLAS(false, true, m, n, k, 0.5, a, k, b, k, 0.25, c1, n)
	sgemmGo(false, true, m, n, k, 0.5, a, k, b, k, 0.25, c2, n)
	assertClose(t, "gonum vs OpenBLAS", c2, to64(c1), 2e-5)
}

func TestGemmShapeMismatchPanics(t *testing.T) {
	be := New()
	mustPanic(t, "Gemm with inner dimensions 3 and 4", func() {
		be.Gemm(false, false, 1, be.Zeros(2, 3), be.Zeros(4, 5), 0, be.Zeros(2, 5))
	})
	mustPanic(t, "Gemm with a wrong output shape", func() {
		be.Gemm(false, true, 1, be.Zeros(2, 3), be.Zeros(5, 3), 0, be.Zeros(5, 2))
	})
	mustPanic(t, "sgemm with a short operand", func() {
		be.sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
	})
}

// TestGemmConcurrent runs multi-threaded products from several goroutines at once, while another
// goroutine keeps switching OpenBLAS to one thread and back (as attention does): every result must
// still match the reference.
func TestGemmConcurrent(t *testing.T) {
	be := New()
	const m, n, k, workers, rounds = 120, 90, 400, 4, 10
	rng := newRand(4)
	a, b := randSlice(rng, m*k, 1), randSlice(rng, k*n, 1)
	want := refGemm(false, false, m, n, k, 1, to64(a), to64(b), 0, make([]float64, m*n))
	stop := make(chan struct{})
	switched := make(chan struct{})
	go func() {
		defer close(switched)
		for {
			select {
			case <-stop:
				return
			default:
				be.singleThreadedBLAS(func() {})
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan string, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := be.Zeros(m, n)
			for r := range rounds {
				be.Gemm(false, false, 1, be.Wrap(a, m, k), be.Wrap(b, k, n), 0, c)
				for i, v := range Data(c) {
					if math.Abs(float64(v)-want[i]) > 1e-4 {
						errs <- name("goroutine %d round %d: element %d = %v, want %v", w, r, i, v, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-switched
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
