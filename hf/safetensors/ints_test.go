package safetensors

import (
	"encoding/binary"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestInt64DecodesEveryIntegerType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ints.safetensors")
	i64 := make([]byte, 16)
	binary.LittleEndian.PutUint64(i64, uint64(1<<40))
	binary.LittleEndian.PutUint64(i64[8:], uint64(0xFFFFFFFFFFFFFF9C)) // -100
	i32 := make([]byte, 8)
	binary.LittleEndian.PutUint32(i32, 0xFFFFFFFF) // -1
	binary.LittleEndian.PutUint32(i32[4:], 7)
	err := Write(path, []Tensor{
		{Name: "i64", DType: Int64, Shape: []int{2}, Data: i64},
		{Name: "i32", DType: Int32, Shape: []int{2}, Data: i32},
		{Name: "u8", DType: Uint8, Shape: []int{2}, Data: []byte{255, 3}},
		{Name: "i8", DType: Int8, Shape: []int{1}, Data: []byte{0xFE}},
		F32("f", []int{1}, []float32{1}),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, want := range map[string][]int64{"i64": {1 << 40, -100}, "i32": {-1, 7}, "u8": {255, 3}, "i8": {-2}} {
		got, err := f.Int64(name)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v (%v), want %v", name, got, err, want)
		}
	}
	if _, err := f.Int64("f"); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Errorf("F32 as integers: %v", err)
	}
	if _, err := f.Int64("nope"); err == nil {
		t.Error("missing tensor accepted")
	}
}
