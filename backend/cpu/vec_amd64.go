package cpu

// cpuid executes CPUID with EAX = leaf and ECX = subleaf.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns the low word of XCR0, the register state the operating system saves.
func xgetbv0() (eax uint32)

// detectAVX512 reports whether the CPU has AVX-512F and the operating system saves the opmask and
// ZMM registers (XCR0 bits 1, 2, 5, 6, 7) across context switches.
func detectAVX512() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave = 1 << 27
	if ecx1&osxsave == 0 {
		return false
	}
	const zmmState = 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<7
	if xgetbv0()&zmmState != zmmState {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx512f = 1 << 16
	return ebx7&avx512f != 0
}

// Kernels in vec_amd64.s; vec.go documents each and calls them only when useAVX512 is true.

//go:noescape
func maxAVX512(x []float32) float32

//go:noescape
func expSumAVX512(dst, x []float32, shift float32) float64

//go:noescape
func scaleAVX512(x []float32, k float32)

//go:noescape
func axpyAVX512(y, x []float32, a float32)

//go:noescape
func addAVX512(out, a, b []float32)

//go:noescape
func swigluAVX512(out, gate, up []float32)

//go:noescape
func swigluBackwardAVX512(dgate, dup, dout, gate, up []float32)

//go:noescape
func dotAVX512(x, y []float32) float64

//go:noescape
func dot3AVX512(x, y, z []float32) float64

//go:noescape
func mulSubAVX512(dp, p []float32, c float32)

//go:noescape
func sumSquaresAVX512(x []float32) float32

//go:noescape
func scaleMulAVX512(out, x, w []float32, r float32)

//go:noescape
func rmsNormBackwardAVX512(dx, g, x, w []float32, r, c float32)

//go:noescape
func accMulAVX512(acc []float64, g, x []float32, r float64)
