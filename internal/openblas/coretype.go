package openblas

import (
	"os"
	"strings"
)

// CoreTypeVar is OpenBLAS's environment variable that names the kernel family to use instead of the
// one its CPU detection picks.
const CoreTypeVar = "OPENBLAS_CORETYPE"

// coreType chooses OpenBLAS kernels from the CPU's feature flags (Linux /proc/cpuinfo), or returns
// "" to leave OpenBLAS's own detection alone. Debian's OpenBLAS 0.3.21 does not know CPUs released
// after it (Sapphire Rapids, for one), and on such a CPU its detection falls back to the generic
// "Prescott" kernels: measured on the device machine's Xeon (2 cores), SGEMM at 1024³ ran at
// 31–36 GFLOP/s that way against 98–115 GFLOP/s with the AVX-512 kernels, and a Llama training step
// at 144–176 against 541 tokens/s. The flags say which kernels the CPU can run whatever its name.
func coreType(cpuinfo string) string {
	flags := map[string]bool{}
	for _, line := range strings.Split(cpuinfo, "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			for _, f := range strings.Fields(value) {
				flags[f] = true
			}
			break
		}
	}
	switch {
	case flags["avx512f"] && flags["avx512_bf16"]:
		return "Cooperlake"
	case flags["avx512f"] && flags["avx512bw"] && flags["avx512vl"]:
		return "SkylakeX"
	case flags["avx2"] && flags["fma"]:
		return "Haswell"
	}
	return ""
}

// chooseCoreType sets OPENBLAS_CORETYPE in the C environment from the CPU's flags, unless the user
// set it or the flags say nothing useful.
func chooseCoreType() {
	if _, set := os.LookupEnv(CoreTypeVar); set {
		return
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return
	}
	if ct := coreType(string(b)); ct != "" {
		setCEnv(CoreTypeVar, ct)
	}
}
