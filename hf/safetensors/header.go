package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"unicode/utf8"
)

// MaxHeaderSize is the largest header, in bytes, that Open accepts. Real headers are well under
// a megabyte; the cap keeps a corrupt length field from requesting an absurd allocation.
const MaxHeaderSize = 100 << 20

// metadataKey is the header key that holds free-form string metadata rather than a tensor.
const metadataKey = "__metadata__"

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	// Shape lists the dimensions, outermost first; an empty shape is a scalar.
	Shape []int
	// Begin and End delimit the tensor's bytes, counted from the start of the data section.
	Begin, End int64
}

// NumElements is the product of the dimensions (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// header is a parsed and validated safetensors header.
type header struct {
	tensors   map[string]TensorInfo
	names     []string // sorted
	metadata  map[string]string
	dataStart int64 // file offset of the data section
}

// rawEntry is one tensor's header entry as it appears in the JSON.
type rawEntry struct {
	DType       *string   `json:"dtype"`
	Shape       *[]*int64 `json:"shape"`
	DataOffsets *[]*int64 `json:"data_offsets"`
}

// parseHeader validates the header of the file whose complete contents are buf, so that every
// tensor's byte range lies inside the data section and ranges do not overlap.
func parseHeader(path string, buf []byte) (*header, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("safetensors %s: file is %d bytes, shorter than the 8-byte header length", path, len(buf))
	}
	n := binary.LittleEndian.Uint64(buf[:8])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors %s: header length %d exceeds the limit of %d bytes", path, n, MaxHeaderSize)
	}
	if n > uint64(len(buf)-8) {
		return nil, fmt.Errorf("safetensors %s: header length %d runs past the end of the %d-byte file", path, n, len(buf))
	}
	text := buf[8 : 8+n]
	if !utf8.Valid(text) {
		return nil, fmt.Errorf("safetensors %s: header is not valid UTF-8", path)
	}
	h := &header{
		tensors:   make(map[string]TensorInfo),
		metadata:  make(map[string]string),
		dataStart: int64(8 + n),
	}
	dataLen := int64(len(buf)) - h.dataStart
	err := eachMember(text, func(key string, value json.RawMessage) error {
		if key == metadataKey {
			return parseMetadata(path, value, h.metadata)
		}
		info, err := parseEntry(path, key, value, dataLen)
		if err != nil {
			return err
		}
		h.tensors[key] = info
		return nil
	})
	if err != nil {
		return nil, wrapHeaderErr(path, err)
	}
	if err := checkOverlaps(path, h.tensors); err != nil {
		return nil, err
	}
	h.names = make([]string, 0, len(h.tensors))
	for name := range h.tensors {
		h.names = append(h.names, name)
	}
	sort.Strings(h.names)
	return h, nil
}

// headerError marks errors that already name the file, so wrapHeaderErr leaves them alone.
type headerError struct{ msg string }

func (e *headerError) Error() string { return e.msg }

func tensorErr(path, name, format string, args ...any) error {
	return &headerError{fmt.Sprintf("safetensors %s: tensor %q: ", path, name) + fmt.Sprintf(format, args...)}
}

func wrapHeaderErr(path string, err error) error {
	if _, ok := err.(*headerError); ok {
		return err
	}
	return fmt.Errorf("safetensors %s: header: %w", path, err)
}

func parseMetadata(path string, value json.RawMessage, into map[string]string) error {
	if isNull(value) {
		return nil
	}
	err := eachMember(value, func(key string, v json.RawMessage) error {
		var s string
		if err := json.Unmarshal(v, &s); err != nil || isNull(v) {
			return fmt.Errorf("value of %q is %s, not a string", key, brief(v))
		}
		into[key] = s
		return nil
	})
	if err != nil {
		return &headerError{fmt.Sprintf("safetensors %s: %s: %v", path, metadataKey, err)}
	}
	return nil
}

// derefAll copies the integers of a decoded JSON array, reporting false if any was null.
func derefAll(ptrs []*int64) ([]int64, bool) {
	out := make([]int64, len(ptrs))
	for i, p := range ptrs {
		if p == nil {
			return nil, false
		}
		out[i] = *p
	}
	return out, true
}

func parseEntry(path, name string, value json.RawMessage, dataLen int64) (TensorInfo, error) {
	var e rawEntry
	if err := json.Unmarshal(value, &e); err != nil {
		return TensorInfo{}, tensorErr(path, name, "bad entry: %v", err)
	}
	switch {
	case e.DType == nil:
		return TensorInfo{}, tensorErr(path, name, "missing dtype")
	case e.Shape == nil:
		return TensorInfo{}, tensorErr(path, name, "missing shape")
	case e.DataOffsets == nil:
		return TensorInfo{}, tensorErr(path, name, "missing data_offsets")
	}
	dtype := DType(*e.DType)
	if !dtype.Valid() {
		return TensorInfo{}, tensorErr(path, name, "unknown dtype %q", *e.DType)
	}
	offsets, ok := derefAll(*e.DataOffsets)
	if !ok || len(offsets) != 2 {
		return TensorInfo{}, tensorErr(path, name, "data_offsets must be two integers, got %d values", len(*e.DataOffsets))
	}
	begin, end := offsets[0], offsets[1]
	switch {
	case begin < 0 || end < 0:
		return TensorInfo{}, tensorErr(path, name, "negative data_offsets [%d, %d]", begin, end)
	case end < begin:
		return TensorInfo{}, tensorErr(path, name, "reversed data_offsets [%d, %d]", begin, end)
	case end > dataLen:
		return TensorInfo{}, tensorErr(path, name, "data_offsets [%d, %d] run past the %d-byte data section", begin, end, dataLen)
	}
	dims, ok := derefAll(*e.Shape)
	if !ok {
		return TensorInfo{}, tensorErr(path, name, "shape holds a null")
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 || int64(int(d)) != d {
			return TensorInfo{}, tensorErr(path, name, "invalid dimension %d in shape %v", d, dims)
		}
		shape[i] = int(d)
	}
	size, ok := numBytes(dims, dtype.Size())
	if !ok {
		return TensorInfo{}, tensorErr(path, name, "shape %v of %s overflows", dims, dtype)
	}
	if size != end-begin {
		return TensorInfo{}, tensorErr(path, name, "shape %v of %s needs %d bytes but data_offsets [%d, %d] hold %d",
			dims, dtype, size, begin, end, end-begin)
	}
	return TensorInfo{Name: name, DType: dtype, Shape: shape, Begin: begin, End: end}, nil
}

// checkOverlaps rejects tensors whose byte ranges share bytes.
func checkOverlaps(path string, tensors map[string]TensorInfo) error {
	infos := make([]TensorInfo, 0, len(tensors))
	for _, t := range tensors {
		if t.End > t.Begin {
			infos = append(infos, t)
		}
	}
	sort.Slice(infos, func(i, j int) bool {
		if infos[i].Begin != infos[j].Begin {
			return infos[i].Begin < infos[j].Begin
		}
		return infos[i].Name < infos[j].Name
	})
	for i := 1; i < len(infos); i++ {
		prev, cur := infos[i-1], infos[i]
		if cur.Begin < prev.End {
			return tensorErr(path, cur.Name, "data_offsets [%d, %d] overlap those of tensor %q [%d, %d]",
				cur.Begin, cur.End, prev.Name, prev.Begin, prev.End)
		}
	}
	return nil
}

// brief shortens a raw JSON value for an error message.
func brief(v json.RawMessage) string {
	const max = 40
	if len(v) <= max {
		return string(v)
	}
	return string(v[:max]) + "..."
}
