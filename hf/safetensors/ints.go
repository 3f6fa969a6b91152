package safetensors

import (
	"encoding/binary"
	"fmt"
)

// Int64 converts the named integer tensor (I64, I32, I16, I8, U8, U16 or U32) to a new int64 slice
// that the caller owns: token ids, attention masks and labels are stored this way.
func (f *File) Int64(name string) ([]int64, error) {
	raw, ok := f.Bytes(name)
	if !ok {
		return nil, f.missing(name)
	}
	dt := f.h.tensors[name].DType
	size := dt.Size()
	out := make([]int64, len(raw)/max(size, 1))
	for i := range out {
		b := raw[i*size:]
		switch dt {
		case Int64:
			out[i] = int64(binary.LittleEndian.Uint64(b))
		case Int32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(b)))
		case Uint32:
			out[i] = int64(binary.LittleEndian.Uint32(b))
		case Int16:
			out[i] = int64(int16(binary.LittleEndian.Uint16(b)))
		case Uint16:
			out[i] = int64(binary.LittleEndian.Uint16(b))
		case Int8:
			out[i] = int64(int8(b[0]))
		case Uint8:
			out[i] = int64(b[0])
		default:
			return nil, fmt.Errorf("safetensors %s: tensor %q: dtype %s is not an integer type", f.path, name, dt)
		}
	}
	return out, nil
}

// Int64 converts the named integer tensor (see File.Int64); errors name the shard.
func (s *Set) Int64(name string) ([]int64, error) {
	f, ok := s.owner[name]
	if !ok {
		return nil, fmt.Errorf("safetensors %s: no tensor %q", s.source, name)
	}
	return f.Int64(name)
}
