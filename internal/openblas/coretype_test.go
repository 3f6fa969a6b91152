package openblas

import "testing"

func TestCoreTypeFromFlags(t *testing.T) {
	cases := map[string]string{
		"processor: 0\nflags\t\t: fpu sse2 avx2 fma avx512f avx512bw avx512vl avx512_bf16 amx_tile\n": "Cooperlake",
		"flags: sse2 avx2 fma avx512f avx512bw avx512vl avx512cd\n":                                   "SkylakeX",
		"flags: sse2 avx avx2 fma\n": "Haswell",
		"flags: sse2 ssse3\n":        "",
		"":                           "",
		"model name: avx512f avx2 fma\nflags: sse2\n": "",
	}
	for info, want := range cases {
		if got := coreType(info); got != want {
			t.Errorf("%q: %q, want %q", info, got, want)
		}
	}
}
