package safetensors

// DType names a tensor element type as spelled in safetensors headers.
type DType string

// Element types the format defines (sub-byte types such as F4 are not supported).
const (
	Bool       DType = "BOOL"    // 1-byte boolean
	Uint8      DType = "U8"      // unsigned 8-bit integer
	Int8       DType = "I8"      // signed 8-bit integer
	Float8E4M3 DType = "F8_E4M3" // 8-bit float, 4 exponent and 3 mantissa bits
	Float8E5M2 DType = "F8_E5M2" // 8-bit float, 5 exponent and 2 mantissa bits
	Int16      DType = "I16"     // signed 16-bit integer
	Uint16     DType = "U16"     // unsigned 16-bit integer
	Float16    DType = "F16"     // IEEE 754 binary16
	BFloat16   DType = "BF16"    // bfloat16: the upper half of a binary32
	Int32      DType = "I32"     // signed 32-bit integer
	Uint32     DType = "U32"     // unsigned 32-bit integer
	Float32    DType = "F32"     // IEEE 754 binary32
	Float64    DType = "F64"     // IEEE 754 binary64
	Int64      DType = "I64"     // signed 64-bit integer
	Uint64     DType = "U64"     // unsigned 64-bit integer
)

var dtypeSizes = map[DType]int{
	Bool: 1, Uint8: 1, Int8: 1, Float8E4M3: 1, Float8E5M2: 1,
	Int16: 2, Uint16: 2, Float16: 2, BFloat16: 2,
	Int32: 4, Uint32: 4, Float32: 4,
	Float64: 8, Int64: 8, Uint64: 8,
}

// Size is the number of bytes of one element, or 0 for a type this package does not know.
func (d DType) Size() int { return dtypeSizes[d] }

// Valid reports whether d is a type this package knows.
func (d DType) Valid() bool { return d.Size() > 0 }

// numBytes returns the byte size of a tensor of the given shape and element size, or ok=false
// when the shape has a negative dimension or the size overflows int64.
func numBytes(shape []int64, size int) (n int64, ok bool) {
	n = int64(size)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
		}
	}
	if n == 0 {
		return 0, true
	}
	const maxInt64 = 1<<63 - 1
	for _, d := range shape {
		if n > maxInt64/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}
