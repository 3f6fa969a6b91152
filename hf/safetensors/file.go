package safetensors

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// File is an open safetensors file whose header has been validated.
type File struct {
	path   string
	buf    []byte // the whole file: a read-only mapping, or a heap copy when mapped is false
	mapped bool
	h      *header
}

// Open maps the file at path and validates its header: lengths, JSON syntax, dtypes, shapes
// against byte ranges, ranges inside the data section and not overlapping, no duplicate names,
// string-only metadata. Byte ranges may leave gaps and the file may carry bytes after the last
// tensor; both are tolerated. The caller must Close the file.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("safetensors %s: not a regular file", path)
	}
	size := st.Size()
	if size < 8 {
		return nil, fmt.Errorf("safetensors %s: file is %d bytes, shorter than the 8-byte header length", path, size)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("safetensors %s: file of %d bytes is too large to address", path, size)
	}
	file := &File{path: path}
	if file.buf, err = mapper(f, int(size)); err == nil {
		file.mapped = true
	} else if file.buf, err = readFile(f, int(size)); err != nil {
		return nil, fmt.Errorf("safetensors %s: read: %w", path, err)
	}
	if file.h, err = parseHeader(path, file.buf); err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// mapper maps files for Open; tests replace it to exercise the read fallback.
var mapper = mapFile

// readFile reads exactly size bytes from the start of f.
func readFile(f *os.File, size int) ([]byte, error) {
	buf := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(size)), buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Path is the path the file was opened with.
func (f *File) Path() string { return f.path }

// Names lists the tensor names in sorted order. The caller owns the slice.
func (f *File) Names() []string { return slices.Clone(f.h.names) }

// Info describes the named tensor; ok is false when the file has no such tensor.
func (f *File) Info(name string) (info TensorInfo, ok bool) {
	info, ok = f.h.tensors[name]
	info.Shape = slices.Clone(info.Shape)
	return info, ok
}

// Metadata returns a copy of the header's "__metadata__" map (empty when absent).
func (f *File) Metadata() map[string]string { return maps.Clone(f.h.metadata) }

// Bytes returns the raw little-endian bytes of the named tensor, aliasing the file's mapping: do
// not modify them, and do not use them after Close. ok is false for an unknown name or a closed file.
func (f *File) Bytes(name string) (data []byte, ok bool) {
	info, ok := f.h.tensors[name]
	if !ok || f.buf == nil {
		return nil, false
	}
	begin, end := f.h.dataStart+info.Begin, f.h.dataStart+info.End
	return f.buf[begin:end:end], true
}

// Float32 converts the named tensor to a new float32 slice that the caller owns. F32, F16, BF16 and
// F64 tensors are supported; F16 and BF16 convert exactly, F64 rounds to nearest (overflow gives ±Inf).
func (f *File) Float32(name string) ([]float32, error) {
	raw, ok := f.Bytes(name)
	if !ok {
		return nil, f.missing(name)
	}
	info := f.h.tensors[name]
	out := make([]float32, len(raw)/info.DType.Size())
	if err := decodeFloat32(out, info.DType, raw); err != nil {
		return nil, fmt.Errorf("safetensors %s: tensor %q: %w", f.path, name, err)
	}
	return out, nil
}

// missing explains why a tensor's data cannot be had.
func (f *File) missing(name string) error {
	if f.buf == nil {
		return fmt.Errorf("safetensors %s: file is closed", f.path)
	}
	return fmt.Errorf("safetensors %s: no tensor %q", f.path, name)
}

// Close releases the mapping. Slices from Bytes and Float32View must not be used afterwards.
// Names, Info and Metadata keep working; data accessors fail. Closing twice is harmless.
func (f *File) Close() error {
	buf := f.buf
	f.buf = nil
	if buf == nil || !f.mapped {
		return nil
	}
	if err := unmapFile(buf); err != nil {
		return fmt.Errorf("safetensors %s: unmap: %w", f.path, err)
	}
	return nil
}
