//go:build !amd64

package cpu

// Without the amd64 kernels, detectAVX512 is false and the functions below are never called; they
// exist so that vec.go compiles on every architecture.

func detectAVX512() bool { return false }

func maxAVX512(x []float32) float32                        { return maxGo(x) }
func expSumAVX512(dst, x []float32, shift float32) float64 { return expSumGo(dst, x, shift) }
func scaleAVX512(x []float32, k float32)                   { scaleGo(x, k) }
func axpyAVX512(y, x []float32, a float32)                 { axpyGo(y, x, a) }
func addAVX512(out, a, b []float32)                        { addGo(out, a, b) }
func swigluAVX512(out, gate, up []float32)                 { swigluGo(out, gate, up) }
func swigluBackwardAVX512(dgate, dup, dout, gate, up []float32) {
	swigluBackwardGo(dgate, dup, dout, gate, up)
}

func dotAVX512(x, y []float32) float64                          { return dotGo(x, y) }
func dot3AVX512(x, y, z []float32) float64                      { return dot3Go(x, y, z) }
func mulSubAVX512(dp, p []float32, c float32)                   { mulSubGo(dp, p, c) }
func sumSquaresAVX512(x []float32) float32                      { return sumSquares32(x, 0) }
func scaleMulAVX512(out, x, w []float32, r float32)             { scaleMulGo(out, x, w, r) }
func rmsNormBackwardAVX512(dx, g, x, w []float32, r, c float32) { rmsNormBackwardGo(dx, g, x, w, r, c) }
func accMulAVX512(acc []float64, g, x []float32, r float64)     { accMulGo(acc, g, x, r) }
