package safetensors

import (
	"encoding/binary"
	"unsafe"
)

// hostLittleEndian reports whether float32 values in memory share the file's byte order.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Float32View returns the named F32 tensor as a float32 slice aliasing the file's mapping, without
// copying. The slice is read-only (writing to it faults or corrupts the file view) and valid only
// until Close. ok is false when the tensor is missing, not F32, not 4-byte aligned in memory, the
// host is big-endian, or the file is closed; Float32 then gives a copy instead.
func (f *File) Float32View(name string) (view []float32, ok bool) {
	raw, ok := f.Bytes(name)
	if !ok || f.h.tensors[name].DType != Float32 || !hostLittleEndian {
		return nil, false
	}
	return float32Alias(raw)
}

// float32Alias reinterprets raw as float32 values when its address is 4-byte aligned.
func float32Alias(raw []byte) ([]float32, bool) {
	if len(raw) == 0 {
		return []float32{}, true
	}
	p := unsafe.Pointer(unsafe.SliceData(raw))
	if uintptr(p)%unsafe.Alignof(float32(0)) != 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(p), len(raw)/4), true
}
