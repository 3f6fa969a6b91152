package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// decodeFloat32 converts little-endian elements of type dtype in src to float32 in dst;
// len(src) must be len(dst) times the element size.
func decodeFloat32(dst []float32, dtype DType, src []byte) error {
	le := binary.LittleEndian
	switch dtype {
	case Float32:
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case Float16:
		for i := range dst {
			dst[i] = F16ToFloat32(le.Uint16(src[2*i:]))
		}
	case BFloat16:
		for i := range dst {
			dst[i] = BF16ToFloat32(le.Uint16(src[2*i:]))
		}
	case Float64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
		}
	default:
		return fmt.Errorf("dtype %s cannot be converted to float32 (want F32, F16, BF16 or F64)", dtype)
	}
	return nil
}

// F16ToFloat32 converts IEEE 754 binary16 bits to float32. Every number, subnormals and
// infinities included, converts exactly; a NaN keeps its sign and payload and comes out quiet, as
// with x86 F16C and torch.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f && mant == 0:
		return math.Float32frombits(sign | 0x7f800000)
	case exp == 0x1f: // NaN: payload to the top mantissa bits, quiet bit set
		return math.Float32frombits(sign | 0x7fc00000 | mant<<13)
	case exp == 0: // zero or subnormal: mant × 2^-24, exact in float32
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// BF16ToFloat32 converts bfloat16 bits to float32 (exact: bfloat16 is the top half of a float32).
func BF16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Float32ToF16 rounds f to the nearest binary16 (ties to even). Values beyond the binary16 range
// become ±Inf, values below half the smallest subnormal become ±0, and NaN stays NaN.
func Float32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		payload := uint16(mant >> 13)
		if payload == 0 {
			payload = 0x200 // the payload sat in the dropped bits: keep it a NaN
		}
		return sign | 0x7c00 | payload
	}
	e := exp - 127 + 15 // the binary16 biased exponent
	switch {
	case e >= 0x1f:
		return sign | 0x7c00
	case e < -10:
		return sign
	case e <= 0: // binary16 subnormal: significand × 2^(e-14) in units of 2^-24
		return sign | uint16(roundShift(mant|0x800000, uint(14-e)))
	default: // a carry out of the mantissa correctly bumps the exponent, up to Inf
		return sign | uint16(roundShift(uint32(e)<<23|mant, 13))
	}
}

// Float32ToBF16 rounds f to the nearest bfloat16 (ties to even); NaN stays NaN.
func Float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // quiet NaN, sign and top payload kept
	}
	return uint16(roundShift(b, 16))
}

// roundShift returns v >> shift rounded to nearest, ties to even (1 ≤ shift ≤ 31).
func roundShift(v uint32, shift uint) uint32 {
	q := v >> shift
	rem := v & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}
