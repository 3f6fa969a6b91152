package safetensors

import (
	"math"
	"testing"
)

// TestTorchReference reads a file written by the reference implementation (torch_reference.py)
// and checks that Float32 converts every F16 bit pattern, random BF16 values and F64 values
// (extremes, ties, NaN, Inf) to the same bits as torch's .float(), NaN payloads included.
func TestTorchReference(t *testing.T) {
	f := mustOpen(t, "testdata/torch_reference.safetensors")
	for _, name := range []string{"f16", "bf16", "f64"} {
		got, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := f.Float32View(name + ".as_f32")
		if !ok {
			t.Fatalf("no aligned F32 view of %s.as_f32", name)
		}
		if len(got) != len(want) || len(got) < 4096 {
			t.Fatalf("%s: %d values, reference has %d", name, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s[%d] = %g (%#08x), torch gives %g (%#08x)", name, i, g, math.Float32bits(g), w, math.Float32bits(w))
			}
		}
	}
}
