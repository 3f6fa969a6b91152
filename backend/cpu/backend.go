// Package cpu is eva's CPU implementation of tensor.Backend.
//
// Conventions: every tensor is dense, row-major (C order) float32. Storage is a Buffer, a plain
// []float32 owned by the tensors that view it; the Go garbage collector frees it. Wrap adopts a
// caller's slice without copying (weights read from disk), FromHost copies. Data exposes a view's
// elements to the backend's own users (tests, activation capture): writes through it are visible to
// every view of the same storage.
//
// GEMM: on AMD CPUs with AVX-512, products large in every dimension run through eva's own blocked
// GEMM (blocked.go, with an assembly micro-kernel), which outran OpenBLAS 0.3.21's AVX-512 kernels
// there (2 cores of an AMD EPYC: 331–374 against 237–346 GFLOP/s on a transformer's shapes,
// BenchmarkGemm; the LoRA training step 1.2–1.3× faster); on Intel's AVX-512 Xeons the two ran
// level, so OpenBLAS stays (EVA_GEMM overrides either way). The rest — thin products with a LoRA
// rank in one dimension, and every product elsewhere — runs through OpenBLAS's cblas_sgemm,
// loaded at run time without cgo (internal/openblas); when the library is absent or
// EVA_OPENBLAS=none, a pure-Go gonum fallback runs instead, with a warning printed once. OpenBLAS
// runs on runtime.GOMAXPROCS threads of its own, and its idle worker threads sleep at once instead
// of spinning (internal/openblas sets OPENBLAS_THREAD_TIMEOUT); attention, which issues its
// per-head products from parallel goroutines, switches OpenBLAS (and the blocked GEMM) to one
// thread for its duration.
//
// The loss, softmax, SwiGLU, RMSNorm and elementwise inner loops run in AVX-512 assembly on amd64
// CPUs that have it (vec.go, vec_amd64.s), with a pure-Go fallback elsewhere or when EVA_NOSIMD is
// set. Every kernel runs in parallel over rows or elements once the work is large enough to pay
// for the goroutines.
//
// Kernel semantics (overwrite versus accumulate, masking, RoPE convention) are those documented on
// tensor.Backend. Shape mismatches panic: they are programming errors, never user input.
package cpu

import (
	"fmt"
	"math"
	"os"

	"github.com/eva-lora/eva/tensor"
)

// Buffer is the CPU backend's storage: a slice of float32 elements.
type Buffer []float32

// Len is the number of float32 elements in the buffer.
func (b Buffer) Len() int { return len(b) }

// Backend runs eva's kernels on the CPU. The zero value is not ready; use New. A Backend holds no
// mutable state, so one value may serve any number of goroutines.
type Backend struct {
	gemm         sgemmFunc
	blas         string
	blasThreaded bool        // gemm is OpenBLAS, multi-threaded (see singleThreadedBLAS)
	kernel       microKernel // the blocked GEMM's micro-kernel for large products; nil: gemm does all
}

var _ tensor.Backend = (*Backend)(nil)

// EnvGemm names an environment variable that chooses who computes large products: "blas" runs
// every product through OpenBLAS (or its pure-Go fallback), "blocked" runs large ones through
// eva's blocked GEMM wherever the CPU has AVX-512. Unset, the blocked GEMM runs where it was
// measured faster (AMD CPUs with AVX-512; see blockedByDefault).
const EnvGemm = "EVA_GEMM"

// New returns a CPU backend. Large products run through eva's blocked GEMM (blocked.go) as EVA_GEMM
// says, the rest through OpenBLAS when it loads and pure Go otherwise.
func New() *Backend {
	fn, desc, threaded := defaultSgemm()
	be := &Backend{gemm: fn, blas: desc, blasThreaded: threaded}
	choice := os.Getenv(EnvGemm)
	if nativeKernel != nil && (choice == "blocked" || choice == "" && blockedByDefault()) {
		be.kernel = nativeKernel
		be.blas = "eva blocked AVX-512; small products: " + desc
	}
	return be
}

// Name returns "cpu".
func (be *Backend) Name() string { return "cpu" }

// BLAS describes the GEMM implementation in use, e.g. "openblas (/usr/lib/.../libopenblas.so.0)"
// or "gonum (pure Go)".
func (be *Backend) BLAS() string { return be.blas }

// Data returns the elements of t's view as a slice of its storage (no copy). It panics when t's
// storage does not belong to a CPU backend.
func Data(t *tensor.Tensor) []float32 {
	buf, ok := t.Storage().(Buffer)
	if !ok {
		panic(fmt.Sprintf("cpu: %v has storage %T, not a cpu.Buffer", t, t.Storage()))
	}
	lo, hi := t.Offset(), t.Offset()+t.Len()
	return buf[lo:hi:hi]
}

// Wrap returns a tensor of the given shape whose storage is data itself (no copy); data must have
// exactly Numel(shape) elements. The caller must not resize data afterwards.
func (be *Backend) Wrap(data []float32, shape ...int) *tensor.Tensor {
	if n := tensor.Numel(shape); n != len(data) {
		panic(fmt.Sprintf("cpu: Wrap of %d elements as shape %v (%d elements)", len(data), shape, n))
	}
	return tensor.New(be, Buffer(data), 0, shape...)
}

// Zeros allocates a zero-filled tensor.
func (be *Backend) Zeros(shape ...int) *tensor.Tensor {
	return tensor.New(be, make(Buffer, tensor.Numel(shape)), 0, shape...)
}

// FromHost allocates a tensor holding a copy of data, which must have Numel(shape) elements.
func (be *Backend) FromHost(data []float32, shape ...int) *tensor.Tensor {
	return be.Wrap(append([]float32(nil), data...), shape...)
}

// ToHost returns a copy of t's elements.
func (be *Backend) ToHost(t *tensor.Tensor) []float32 {
	return append([]float32(nil), Data(t)...)
}

// Copy copies src into dst; both must have the same number of elements (shapes may differ).
func (be *Backend) Copy(dst, src *tensor.Tensor) {
	if dst.Len() != src.Len() {
		panic(fmt.Sprintf("cpu: Copy of %v into %v: element counts differ", src, dst))
	}
	copy(Data(dst), Data(src))
}

// Fill sets every element of t to v.
func (be *Backend) Fill(t *tensor.Tensor, v float32) {
	d := Data(t)
	if v == 0 && !math.Signbit(float64(v)) { // +0: the runtime's vectorised memclr
		parallelFor(len(d), 1, func(lo, hi int) { clear(d[lo:hi]) })
		return
	}
	parallelFor(len(d), 1, func(lo, hi int) {
		s := d[lo:hi]
		for i := range s {
			s[i] = v
		}
	})
}
