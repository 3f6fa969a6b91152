package cpu

// kernel12x32AVX512 is the micro-kernel of blocked.go in AVX-512 assembly (blocked_amd64.s): it
// reads kc·12 values at a, kc·32 at b and writes the 12 × 32 tile at c (rows ldc elements apart).
//
//go:noescape
func kernel12x32AVX512(kc int, a, b, c *float32, ldc int, alpha float32, load bool)

// avx512Kernel is the microKernel of CPUs with AVX-512; it checks the slices' bounds first.
func avx512Kernel(kc int, a, b, c []float32, ldc int, alpha float32, load bool) {
	_, _, _ = a[kc*kernelRows-1], b[kc*kernelCols-1], c[(kernelRows-1)*ldc+kernelCols-1]
	kernel12x32AVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, load)
}

// nativeKernel is the assembly micro-kernel when the CPU can run it, nil otherwise.
var nativeKernel = func() microKernel {
	if useAVX512 {
		return avx512Kernel
	}
	return nil
}()
