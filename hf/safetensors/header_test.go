package safetensors

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestOpenRejectsBadInput(t *testing.T) {
	data16 := make([]byte, 16)
	cases := []struct {
		name    string
		content []byte
		want    []string // fragments the error must contain besides the path
	}{
		{"short file", []byte{1, 2, 3}, []string{"shorter than"}},
		{"header past end", func() []byte {
			b := rawFile(`{}`, nil)
			binary.LittleEndian.PutUint64(b, 64)
			return b
		}(), []string{"header length 64", "past the end"}},
		{"absurd header", func() []byte {
			b := rawFile(`{}`, nil)
			binary.LittleEndian.PutUint64(b, 1<<62)
			return b
		}(), []string{"exceeds the limit"}},
		{"malformed JSON", rawFile(`{"a": {`, nil), []string{"malformed JSON"}},
		{"not an object", rawFile(`[1, 2]`, nil), []string{"not an object"}},
		{"data after object", rawFile(`{}{}`, nil), []string{"data after the object"}},
		{"invalid UTF-8", rawFile("{\"\xff\": 1}", nil), []string{"UTF-8"}},
		{"unknown dtype", rawFile(`{"w":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}}`, data16),
			[]string{`"w"`, `unknown dtype "F7"`}},
		{"missing dtype", rawFile(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, data16), []string{`"w"`, "missing dtype"}},
		{"missing shape", rawFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, data16), []string{`"w"`, "missing shape"}},
		{"missing offsets", rawFile(`{"w":{"dtype":"F32","shape":[1]}}`, data16), []string{`"w"`, "missing data_offsets"}},
		{"entry not an object", rawFile(`{"w":7}`, data16), []string{`"w"`, "bad entry"}},
		{"size mismatch", rawFile(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data16),
			[]string{`"w"`, "needs 12 bytes", "hold 8"}},
		{"negative offset", rawFile(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}}`, data16),
			[]string{`"w"`, "negative data_offsets"}},
		{"reversed offsets", rawFile(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[8,4]}}`, data16),
			[]string{`"w"`, "reversed data_offsets"}},
		{"offsets past data", rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`, data16),
			[]string{`"w"`, "run past the 16-byte data section"}},
		{"three offsets", rawFile(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4,8]}}`, data16),
			[]string{`"w"`, "got 3 values"}},
		{"fractional offset", rawFile(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4.5]}}`, data16),
			[]string{`"w"`, "bad entry"}},
		{"null dimension", rawFile(`{"w":{"dtype":"U8","shape":[null],"data_offsets":[0,0]}}`, data16),
			[]string{`"w"`, "null"}},
		{"negative dimension", rawFile(`{"w":{"dtype":"U8","shape":[-1,-4],"data_offsets":[0,4]}}`, data16),
			[]string{`"w"`, "invalid dimension -1"}},
		{"shape overflow", rawFile(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, data16),
			[]string{`"w"`, "overflows"}},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
			`"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, data16),
			[]string{`"b"`, `overlap those of tensor "a"`}},
		{"duplicate name", rawFile(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},`+
			`"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, data16),
			[]string{`duplicate key "w"`}},
		{"non-string metadata", rawFile(`{"__metadata__":{"format":"pt","epoch":3}}`, nil),
			[]string{"__metadata__", `"epoch"`, "not a string"}},
		{"null metadata value", rawFile(`{"__metadata__":{"format":null}}`, nil),
			[]string{"__metadata__", `"format"`, "not a string"}},
		{"metadata not an object", rawFile(`{"__metadata__":["pt"]}`, nil), []string{"__metadata__", "not an object"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeTemp(t, "bad.safetensors", c.content)
			f, err := Open(path)
			if err == nil {
				f.Close()
			}
			wantErr(t, err, append([]string{path}, c.want...)...)
		})
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := Open("/nonexistent/dir/x.safetensors")
	wantErr(t, err, "/nonexistent/dir/x.safetensors")
	_, err = Open(t.TempDir())
	wantErr(t, err, "not a regular file")
}

func TestOpenAcceptsEdgeCases(t *testing.T) {
	// Gaps between tensors, trailing bytes, zero-size tensors sharing an offset, a scalar, null
	// metadata, padding spaces and unknown entry keys are all legal.
	header := `{"__metadata__":null,"s":{"dtype":"F32","shape":[],"data_offsets":[4,8],"extra":1},` +
		`"z1":{"dtype":"F64","shape":[0,3],"data_offsets":[8,8]},` +
		`"z2":{"dtype":"BF16","shape":[4294967296,4294967296,0],"data_offsets":[8,8]},` +
		`"b":{"dtype":"U8","shape":[2],"data_offsets":[10,12]}}   `
	data := []byte{9, 9, 9, 9, 0, 0, 0x80, 0x3f, 7, 7, 1, 2, 7, 7}
	f := mustOpen(t, writeTemp(t, "ok.safetensors", rawFile(header, data)))
	if got, want := strings.Join(f.Names(), ","), "b,s,z1,z2"; got != want {
		t.Fatalf("names %s, want %s", got, want)
	}
	if len(f.Metadata()) != 0 {
		t.Errorf("metadata %v, want empty", f.Metadata())
	}
	s, err := f.Float32("s")
	if err != nil || len(s) != 1 || s[0] != 1 {
		t.Errorf("scalar = %v, %v; want [1]", s, err)
	}
	if info, _ := f.Info("s"); len(info.Shape) != 0 || info.NumElements() != 1 {
		t.Errorf("scalar info %+v", info)
	}
	z, err := f.Float32("z2")
	if err != nil || len(z) != 0 {
		t.Errorf("zero-size = %v, %v", z, err)
	}
	b, ok := f.Bytes("b")
	if !ok || len(b) != 2 || b[0] != 1 || b[1] != 2 {
		t.Errorf("bytes of b = %v, %v", b, ok)
	}
	if _, err := f.Float32("b"); err == nil || !strings.Contains(err.Error(), "U8 cannot be converted") {
		t.Errorf("Float32 of U8: %v", err)
	}
	if _, err := f.Float32("nope"); err == nil || !strings.Contains(err.Error(), `no tensor "nope"`) {
		t.Errorf("Float32 of missing tensor: %v", err)
	}
}
