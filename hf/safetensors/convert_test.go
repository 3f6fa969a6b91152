package safetensors

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestF16ToFloat32KnownValues(t *testing.T) {
	cases := []struct {
		bits uint16
		want float32
	}{
		{0x3C00, 1},
		{0xC000, -2},
		{0x3555, 0.333251953125},
		{0x0001, 1.0 / (1 << 24)},       // smallest subnormal, 2^-24
		{0x03FF, 1023.0 / (1 << 24)},    // largest subnormal
		{0x0400, 1.0 / (1 << 14)},       // smallest normal, 2^-14
		{0x7BFF, 65504},                 // largest finite
		{0x7C00, float32(math.Inf(1))},  // +Inf
		{0xFC00, float32(math.Inf(-1))}, // -Inf
		{0x0000, 0},
	}
	for _, c := range cases {
		if got := F16ToFloat32(c.bits); got != c.want {
			t.Errorf("F16ToFloat32(%#04x) = %g, want %g", c.bits, got, c.want)
		}
	}
	if got := F16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("F16ToFloat32(0x8000) = %g, want -0", got)
	}
	if got := math.Float32bits(F16ToFloat32(0x7E01)); got != 0x7FC02000 {
		t.Errorf("quiet NaN 0x7E01 converts to bits %#08x, want 0x7FC02000 (payload kept)", got)
	}
	if got := math.Float32bits(F16ToFloat32(0xFC01)); got != 0xFFC02000 {
		t.Errorf("signaling NaN 0xFC01 converts to bits %#08x, want 0xFFC02000 (quieted, sign and payload kept)", got)
	}
}

// f16Reference evaluates binary16 bits with the textbook formula in float64.
func f16Reference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0x1f:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	case 0:
		return sign * mant * math.Pow(2, -24)
	default:
		return sign * (1 + mant/1024) * math.Pow(2, float64(exp-15))
	}
}

func TestF16AllBitPatterns(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := F16ToFloat32(h)
		want := f16Reference(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("F16ToFloat32(%#04x) = %g, want NaN", h, got)
			}
			if back := Float32ToF16(got); back != h|0x200 {
				t.Fatalf("NaN %#04x round-trips to %#04x, want it quieted to %#04x", h, back, h|0x200)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("F16ToFloat32(%#04x) = %g, want %g", h, got, want)
		}
		if back := Float32ToF16(got); back != h {
			t.Fatalf("Float32ToF16(F16ToFloat32(%#04x)) = %#04x", h, back)
		}
	}
}

func TestFloat32ToF16Rounding(t *testing.T) {
	p := func(e int) float32 { return float32(math.Ldexp(1, e)) }
	cases := []struct {
		in   float32
		want uint16
	}{
		{1 + p(-11), 0x3C00},   // halfway between 1 and next: ties to even (down)
		{1 + 3*p(-11), 0x3C02}, // halfway, ties to even (up)
		{1 + p(-11) + p(-20), 0x3C01},
		{65519, 0x7BFF}, // below the halfway point to 65536
		{65520, 0x7C00}, // halfway to 65536 ties to even: overflow to Inf
		{1e10, 0x7C00},
		{-1e10, 0xFC00},
		{p(-25), 0x0000}, // half the smallest subnormal: ties to even (zero)
		{p(-25) * 1.0001, 0x0001},
		{3 * p(-25), 0x0002}, // 1.5 subnormal units: ties to even (2)
		{p(-26), 0x0000},
		{-p(-30), 0x8000},
		{p(-14) - p(-25), 0x0400}, // rounds up from the largest subnormal into the smallest normal
	}
	for _, c := range cases {
		if got := Float32ToF16(c.in); got != c.want {
			t.Errorf("Float32ToF16(%g) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if got := Float32ToF16(float32(math.NaN())); got&0x7C00 != 0x7C00 || got&0x3FF == 0 {
		t.Errorf("NaN converts to %#04x, not a NaN", got)
	}
	// A NaN whose payload lives only in the low bits must stay a NaN.
	if got := Float32ToF16(math.Float32frombits(0x7F800001)); got&0x3FF == 0 {
		t.Errorf("low-payload NaN converts to %#04x, not a NaN", got)
	}
}

// TestFloat32ToF16Nearest checks on random inputs that no binary16 value is closer than the one chosen.
func TestFloat32ToF16Nearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		f := float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(44)-26))
		h := Float32ToF16(f)
		got := float64(F16ToFloat32(h))
		if math.IsInf(got, 0) {
			if math.Abs(float64(f)) < 65520 {
				t.Fatalf("Float32ToF16(%g) overflowed", f)
			}
			continue
		}
		err := math.Abs(got - float64(f))
		for _, n := range []uint16{h - 1, h + 1} {
			if n&0x7C00 == 0x7C00 || (n^h)&0x8000 != 0 {
				continue
			}
			if other := math.Abs(float64(F16ToFloat32(n)) - float64(f)); other < err {
				t.Fatalf("Float32ToF16(%g) = %#04x (error %g) but %#04x is closer (%g)", f, h, err, n, other)
			}
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		bits uint16
		want float32
	}{
		{0x3F80, 1},
		{0xC000, -2},
		{0x4049, 3.140625},
		{0x7F80, float32(math.Inf(1))},
		{0x0001, float32(math.Ldexp(1, -133))},
	}
	for _, c := range cases {
		if got := BF16ToFloat32(c.bits); got != c.want {
			t.Errorf("BF16ToFloat32(%#04x) = %g, want %g", c.bits, got, c.want)
		}
		if back := Float32ToBF16(c.want); back != c.bits {
			t.Errorf("Float32ToBF16(%g) = %#04x, want %#04x", c.want, back, c.bits)
		}
	}
	p := func(e int) float32 { return float32(math.Ldexp(1, e)) }
	rounding := []struct {
		in   float32
		want uint16
	}{
		{1 + p(-8), 0x3F80},   // tie, to even (down)
		{1 + 3*p(-8), 0x3F82}, // tie, to even (up)
		{1 + p(-8) + p(-20), 0x3F81},
		{math.MaxFloat32, 0x7F80}, // rounds up past the largest bfloat16
	}
	for _, c := range rounding {
		if got := Float32ToBF16(c.in); got != c.want {
			t.Errorf("Float32ToBF16(%g) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if got := Float32ToBF16(math.Float32frombits(0x7F800001)); !math.IsNaN(float64(BF16ToFloat32(got))) {
		t.Errorf("low-payload NaN converts to %#04x, not a NaN", got)
	}
}

func BenchmarkDecodeF16(b *testing.B) {
	src := make([]byte, 2<<20)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]float32, len(src)/2)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		decodeFloat32(dst, Float16, src)
	}
}

func BenchmarkDecodeBF16(b *testing.B) {
	src := make([]byte, 2<<20)
	dst := make([]float32, len(src)/2)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		decodeFloat32(dst, BFloat16, src)
	}
}
