//go:build !amd64

package cpu

// nativeKernel is nil: the blocked GEMM has an assembly micro-kernel for amd64 only.
var nativeKernel microKernel

// blockedByDefault is false: without the assembly there is nothing to prefer over the BLAS.
func blockedByDefault() bool { return false }
