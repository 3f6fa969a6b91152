package cpu

// kernel12x32AVX512 is the micro-kernel of blocked.go in AVX-512 assembly (blocked_amd64.s): it
// reads the strip at a (row i, depth p at a[p·ds + i·ls]), kc·32 values at b and writes the
// 12 × 32 tile at c (rows ldc elements apart).
//
//go:noescape
func kernel12x32AVX512(kc int, a *float32, ls, ds int, b, c *float32, ldc int, alpha float32, load bool)

// avx512Kernel is the microKernel of CPUs with AVX-512; it checks the slices' bounds first.
func avx512Kernel(kc int, a []float32, ls, ds int, b, c []float32, ldc int, alpha float32, load bool) {
	_, _, _ = a[(kc-1)*ds+(kernelRows-1)*ls], b[kc*kernelCols-1], c[(kernelRows-1)*ldc+kernelCols-1]
	kernel12x32AVX512(kc, &a[0], ls, ds, &b[0], &c[0], ldc, alpha, load)
}

// nativeKernel is the assembly micro-kernel when the CPU can run it, nil otherwise.
var nativeKernel = func() microKernel {
	if useAVX512 {
		return avx512Kernel
	}
	return nil
}()

// blockedByDefault reports whether the blocked GEMM beats OpenBLAS on this CPU, so that New uses it
// without being asked: on AMD CPUs with AVX-512, measured on an EPYC (2 cores, BenchmarkGemm):
// 331–374 against OpenBLAS 0.3.21's 237–346 GFLOP/s. On the device machine's Xeon (Sapphire
// Rapids) it ran level with OpenBLAS on the forward and backward shapes and 25 % slower with a
// transposed op(a) (BenchmarkGemmTune), so Intel CPUs keep OpenBLAS unless EVA_GEMM=blocked.
func blockedByDefault() bool {
	_, ebx, ecx, edx := cpuid(0, 0)
	return nativeKernel != nil && ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163 // "AuthenticAMD"
}
