package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// goReferencePath holds a file written by Write that torch_reference.py has confirmed the
// reference implementation reads correctly.
const goReferencePath = "testdata/go_written.safetensors"

// goReferenceTensors are the contents of goReferencePath (torch_reference.py checks the same values).
func goReferenceTensors() []Tensor {
	le := binary.LittleEndian
	u16 := func(v ...uint16) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			le.PutUint16(b[2*i:], x)
		}
		return b
	}
	u64 := func(v ...uint64) []byte {
		b := make([]byte, 8*len(v))
		for i, x := range v {
			le.PutUint64(b[8*i:], x)
		}
		return b
	}
	minus2 := int64(-2)
	return []Tensor{
		F32("w.f32", []int{2, 3}, []float32{1, 2, 3, 4, 5, -0.5}),
		{Name: "w.f16", DType: Float16, Shape: []int{4}, Data: u16(0x3C00, 0x0001, 0x7C00, 0xC000)},
		{Name: "w.bf16", DType: BFloat16, Shape: []int{2}, Data: u16(0x3F80, 0x4049)},
		{Name: "w.f64", DType: Float64, Shape: []int{2}, Data: u64(0x3FB999999999999A, 0xC004000000000000)}, // 0.1, -2.5
		{Name: "w.i64", DType: Int64, Shape: []int{3}, Data: u64(1, uint64(minus2), 3)},
		{Name: "w.u8", DType: Uint8, Shape: []int{1}, Data: []byte{7}},
		F32("w.empty", []int{0, 4}, nil),
		F32("w.scalar", []int{}, []float32{7}),
	}
}

// TestWriteMatchesVerifiedFile checks that Write still produces, byte for byte, the file that the
// reference implementation was verified to read. Set EVA_WRITE_GO_REFERENCE=1 to regenerate it
// (then rerun torch_reference.py on it).
func TestWriteMatchesVerifiedFile(t *testing.T) {
	meta := map[string]string{"format": "pt", "note": "<written by eva>"}
	if os.Getenv("EVA_WRITE_GO_REFERENCE") != "" {
		if err := Write(goReferencePath, goReferenceTensors(), meta); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := Write(path, goReferenceTensors(), meta); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want, err := os.ReadFile(goReferencePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Write output differs from %s:\n got %q\nwant %q", goReferencePath, got, want)
	}
}
