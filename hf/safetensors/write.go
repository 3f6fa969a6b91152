package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Tensor is one tensor to write: Data holds its elements little-endian in row-major order.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// F32 encodes float32 values as an F32 tensor; data is copied.
func F32(name string, shape []int, data []float32) Tensor {
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: Float32, Shape: append([]int(nil), shape...), Data: buf}
}

// Write stores tensors and metadata (which may be nil) at path, atomically: the file is streamed to
// a temporary file in the same directory, synced and renamed over path, and the temporary file is
// removed on any error. Header keys are sorted and the header is padded with spaces to a multiple
// of 8 bytes; the data are contiguous, largest element size first, by name within a size, so each
// tensor is aligned to its element size. Names must be unique, non-empty and not "__metadata__",
// and each Data must hold exactly the bytes its DType and Shape need.
func Write(path string, tensors []Tensor, metadata map[string]string) (err error) {
	order, err := layout(tensors)
	if err == nil {
		err = checkMetadata(metadata)
	}
	if err != nil {
		return fmt.Errorf("safetensors write %s: %w", path, err)
	}
	head := encodeHeader(order, tensors, metadata)

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("safetensors write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("safetensors write %s: %w", path, err)
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(head)))
	if _, err = w.Write(n[:]); err != nil {
		return err
	}
	if _, err = w.Write(head); err != nil {
		return err
	}
	for _, i := range order {
		if _, err = w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename in dir durable where the system allows it; failure is not an error
// because the file itself is already complete and synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// layout validates tensors and returns their indices in data order: element size descending,
// then name ascending.
func layout(tensors []Tensor) ([]int, error) {
	seen := make(map[string]bool, len(tensors))
	order := make([]int, len(tensors))
	for i, t := range tensors {
		if err := checkTensor(t); err != nil {
			return nil, err
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("tensor %q given twice", t.Name)
		}
		seen[t.Name] = true
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ta, tb := tensors[order[a]], tensors[order[b]]
		if sa, sb := ta.DType.Size(), tb.DType.Size(); sa != sb {
			return sa > sb
		}
		return ta.Name < tb.Name
	})
	return order, nil
}

func checkTensor(t Tensor) error {
	switch {
	case t.Name == "":
		return errors.New("tensor with an empty name")
	case !utf8.ValidString(t.Name):
		return fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
	case t.Name == metadataKey:
		return fmt.Errorf("tensor name %q is reserved for metadata", metadataKey)
	case !t.DType.Valid():
		return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	size, ok := numBytes(dims, t.DType.Size())
	if !ok {
		return fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
	}
	if size != int64(len(t.Data)) {
		return fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, data has %d", t.Name, t.Shape, t.DType, size, len(t.Data))
	}
	return nil
}

func checkMetadata(metadata map[string]string) error {
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("metadata %q: key and value must be valid UTF-8", k)
		}
	}
	return nil
}

// encodeHeader renders the JSON header with sorted keys, padded with spaces to a multiple of 8.
func encodeHeader(order []int, tensors []Tensor, metadata map[string]string) []byte {
	entries := make(map[string][]byte, len(tensors)+1)
	var offset int64
	for _, i := range order {
		t := tensors[i]
		var e bytes.Buffer
		e.WriteString(`{"dtype":`)
		e.Write(jsonString(string(t.DType)))
		e.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				e.WriteByte(',')
			}
			e.WriteString(strconv.Itoa(d))
		}
		end := offset + int64(len(t.Data))
		fmt.Fprintf(&e, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
		entries[t.Name] = e.Bytes()
	}
	if len(metadata) > 0 {
		keys := sortedKeys(metadata)
		var e bytes.Buffer
		e.WriteByte('{')
		for j, k := range keys {
			if j > 0 {
				e.WriteByte(',')
			}
			e.Write(jsonString(k))
			e.WriteByte(':')
			e.Write(jsonString(metadata[k]))
		}
		e.WriteByte('}')
		entries[metadataKey] = e.Bytes()
	}
	var h bytes.Buffer
	h.WriteByte('{')
	for j, k := range sortedKeys(entries) {
		if j > 0 {
			h.WriteByte(',')
		}
		h.Write(jsonString(k))
		h.WriteByte(':')
		h.Write(entries[k])
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes()
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// BF16 encodes float32 values as a BF16 tensor (rounded to nearest, ties to even).
func BF16(name string, shape []int, data []float32) Tensor {
	buf := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(buf[2*i:], Float32ToBF16(v))
	}
	return Tensor{Name: name, DType: BFloat16, Shape: append([]int(nil), shape...), Data: buf}
}
