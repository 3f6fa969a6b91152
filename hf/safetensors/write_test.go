package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// roundTripTensors covers every float type Float32 converts, plus an integer, a scalar and an
// empty tensor, with sizes chosen so that name order alone would misalign the F32 data.
func roundTripTensors() ([]Tensor, map[string][]float32) {
	f16 := []uint16{0x3C00, 0x0001, 0x7C00}  // 1, 2^-24, +Inf
	bf16 := []uint16{0x3F80, 0xC000, 0x4049} // 1, -2, 3.140625
	f64 := []float64{0.1, -1e300, 2.5}       // rounds to float32; -1e300 overflows
	le := binary.LittleEndian
	enc16 := func(v []uint16) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			le.PutUint16(b[2*i:], x)
		}
		return b
	}
	b64 := make([]byte, 8*len(f64))
	for i, x := range f64 {
		le.PutUint64(b64[8*i:], math.Float64bits(x))
	}
	tensors := []Tensor{
		F32("b.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, -6.5}),
		{Name: "a.half", DType: Float16, Shape: []int{3}, Data: enc16(f16)},
		{Name: "c.brain", DType: BFloat16, Shape: []int{1, 3}, Data: enc16(bf16)},
		{Name: "d.double", DType: Float64, Shape: []int{3}, Data: b64},
		{Name: "e.bytes", DType: Uint8, Shape: []int{3}, Data: []byte{7, 8, 9}},
		F32("f.scalar", []int{}, []float32{42}),
		F32("g.empty", []int{0, 5}, nil),
	}
	want := map[string][]float32{
		"b.weight": {1, 2, 3, 4, 5, -6.5},
		"a.half":   {1, float32(math.Ldexp(1, -24)), float32(math.Inf(1))},
		"c.brain":  {1, -2, 3.140625},
		"d.double": {float32(0.1), float32(math.Inf(-1)), 2.5},
		"f.scalar": {42},
		"g.empty":  {},
	}
	return tensors, want
}

func TestWriteReadRoundTrip(t *testing.T) {
	tensors, want := roundTripTensors()
	meta := map[string]string{"format": "pt", "note": "<&> \"quoted\" ünïcode"}
	path := filepath.Join(t.TempDir(), "rt.safetensors")
	if err := Write(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	f := mustOpen(t, path)
	if got := f.Names(); !slices.IsSorted(got) || len(got) != len(tensors) {
		t.Fatalf("names %v: want %d sorted names", got, len(tensors))
	}
	if got := f.Metadata(); !reflect.DeepEqual(got, meta) {
		t.Errorf("metadata %v, want %v", got, meta)
	}
	for _, tn := range tensors {
		info, ok := f.Info(tn.Name)
		if !ok || info.DType != tn.DType || !slices.Equal(info.Shape, tn.Shape) || info.Name != tn.Name {
			t.Errorf("info of %s = %+v, want dtype %s shape %v", tn.Name, info, tn.DType, tn.Shape)
		}
		if raw, _ := f.Bytes(tn.Name); !bytes.Equal(raw, tn.Data) {
			t.Errorf("bytes of %s = %v, want %v", tn.Name, raw, tn.Data)
		}
		w, isFloat := want[tn.Name]
		got, err := f.Float32(tn.Name)
		if !isFloat {
			if err == nil {
				t.Errorf("Float32(%s) of %s succeeded", tn.Name, tn.DType)
			}
			continue
		}
		if err != nil || !slices.Equal(got, w) {
			t.Errorf("Float32(%s) = %v, %v; want %v", tn.Name, got, err, w)
		}
	}
}

func TestWriteLayout(t *testing.T) {
	tensors, _ := roundTripTensors()
	path := filepath.Join(t.TempDir(), "layout.safetensors")
	if err := Write(path, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(buf)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	head := string(buf[8 : 8+n])
	if trimmed := strings.TrimRight(head, " "); len(head)-len(trimmed) >= 8 || !strings.HasSuffix(trimmed, "}") {
		t.Errorf("header %q is not padded with fewer than 8 spaces", head)
	}
	// Keys appear in sorted order.
	dec := json.NewDecoder(strings.NewReader(head))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	if !slices.IsSorted(keys) || keys[0] != "__metadata__" {
		t.Errorf("header keys %v are not sorted", keys)
	}
	// Data are contiguous from 0 to the end of the file (what the reference reader requires),
	// and every tensor starts at a multiple of its element size.
	f := mustOpen(t, path)
	var infos []TensorInfo
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		infos = append(infos, info)
		if info.Begin%int64(info.DType.Size()) != 0 {
			t.Errorf("%s (%s) starts at %d, misaligned", name, info.DType, info.Begin)
		}
	}
	slices.SortFunc(infos, func(a, b TensorInfo) int {
		if a.Begin != b.Begin {
			return int(a.Begin - b.Begin)
		}
		return int(a.End - b.End)
	})
	var end int64
	for _, info := range infos {
		if info.Begin != end {
			t.Errorf("%s starts at %d, want %d (contiguous)", info.Name, info.Begin, end)
		}
		end = info.End
	}
	if int64(len(buf))-8-int64(n) != end {
		t.Errorf("data section is %d bytes, tensors end at %d", int64(len(buf))-8-int64(n), end)
	}
}

func TestFloat32View(t *testing.T) {
	tensors, want := roundTripTensors()
	path := filepath.Join(t.TempDir(), "view.safetensors")
	if err := Write(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	view, ok := f.Float32View("b.weight")
	if !ok || !slices.Equal(view, want["b.weight"]) {
		t.Fatalf("view = %v, %v; want %v", view, ok, want["b.weight"])
	}
	raw, _ := f.Bytes("b.weight")
	if unsafe.Pointer(&view[0]) != unsafe.Pointer(&raw[0]) {
		t.Error("view does not alias the file's bytes")
	}
	if _, ok := f.Float32View("a.half"); ok {
		t.Error("view of an F16 tensor succeeded")
	}
	if _, ok := f.Float32View("missing"); ok {
		t.Error("view of a missing tensor succeeded")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, ok := f.Float32View("b.weight"); ok {
		t.Error("view after Close succeeded")
	}
	if _, ok := f.Bytes("b.weight"); ok {
		t.Error("Bytes after Close succeeded")
	}
	_, err = f.Float32("b.weight")
	wantErr(t, err, path, "closed")
	if _, ok := f.Info("b.weight"); !ok {
		t.Error("Info after Close failed")
	}
}

func TestFloat32ViewMisaligned(t *testing.T) {
	// One byte of U8 data pushes the F32 tensor to an odd offset.
	header := `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	f := mustOpen(t, writeTemp(t, "odd.safetensors", rawFile(header, []byte{0, 0, 0, 0x80, 0x3f})))
	if _, ok := f.Float32View("w"); ok {
		t.Error("view of a misaligned tensor succeeded")
	}
	if got, err := f.Float32("w"); err != nil || !slices.Equal(got, []float32{1}) {
		t.Errorf("Float32 = %v, %v; want [1]", got, err)
	}
}

func TestWriteRejectsBadTensors(t *testing.T) {
	good := F32("w", []int{2}, []float32{1, 2})
	cases := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"duplicate", []Tensor{good, good}, nil, `"w" given twice`},
		{"size mismatch", []Tensor{F32("w", []int{3}, []float32{1, 2})}, nil, "needs 12 bytes, data has 8"},
		{"unknown dtype", []Tensor{{Name: "w", DType: "F7", Shape: []int{1}, Data: []byte{0}}}, nil, "unknown dtype"},
		{"negative dim", []Tensor{{Name: "w", DType: Uint8, Shape: []int{-1}}}, nil, "invalid shape"},
		{"empty name", []Tensor{F32("", []int{1}, []float32{1})}, nil, "empty name"},
		{"reserved name", []Tensor{F32("__metadata__", []int{1}, []float32{1})}, nil, "reserved"},
		{"bad UTF-8 name", []Tensor{F32("w\xff", []int{1}, []float32{1})}, nil, "UTF-8"},
		{"bad UTF-8 metadata", []Tensor{good}, map[string]string{"k": "\xff"}, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.safetensors")
			if err := os.WriteFile(path, []byte("previous"), 0o644); err != nil {
				t.Fatal(err)
			}
			wantErr(t, Write(path, c.tensors, c.meta), path, c.want)
			// The previous file is untouched and no temporary file is left behind.
			if got, _ := os.ReadFile(path); string(got) != "previous" {
				t.Errorf("file changed to %q", got)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries, want 1", len(entries))
			}
		})
	}
}

func TestWriteIntoMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "x.safetensors")
	wantErr(t, Write(path, nil, nil), path)
}

func TestWriteEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.safetensors")
	if err := Write(path, nil, nil); err != nil {
		t.Fatal(err)
	}
	f := mustOpen(t, path)
	if len(f.Names()) != 0 {
		t.Errorf("names %v, want none", f.Names())
	}
}

func TestOpenWithoutMmap(t *testing.T) {
	defer func(saved func(*os.File, int) ([]byte, error)) { mapper = saved }(mapper)
	mapper = func(*os.File, int) ([]byte, error) { return nil, os.ErrInvalid }
	tensors, want := roundTripTensors()
	path := filepath.Join(t.TempDir(), "read.safetensors")
	if err := Write(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	f := mustOpen(t, path)
	if f.mapped {
		t.Fatal("file is mapped although mmap failed")
	}
	for name, w := range want {
		if got, err := f.Float32(name); err != nil || !slices.Equal(got, w) {
			t.Errorf("Float32(%s) = %v, %v; want %v", name, got, err, w)
		}
	}
	if view, ok := f.Float32View("b.weight"); !ok || !slices.Equal(view, want["b.weight"]) {
		t.Errorf("view = %v, %v", view, ok)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Bytes("b.weight"); ok {
		t.Error("Bytes after Close succeeded")
	}
}
