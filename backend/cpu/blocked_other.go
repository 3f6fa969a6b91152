//go:build !amd64

package cpu

// nativeKernel is nil: the blocked GEMM has an assembly micro-kernel for amd64 only.
var nativeKernel microKernel
