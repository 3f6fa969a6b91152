package safetensors

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// shardedCheckpoint writes two shards and an index mapping each tensor to its shard. The index
// text is returned by indexJSON so tests can corrupt it.
func shardedCheckpoint(t *testing.T, indexJSON string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, tensors ...Tensor) {
		if err := Write(filepath.Join(dir, name), tensors, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
	}
	write("model-00001-of-00002.safetensors",
		F32("embed.weight", []int{2, 2}, []float32{1, 2, 3, 4}),
		F32("layers.0.weight", []int{2}, []float32{5, 6}))
	write("model-00002-of-00002.safetensors",
		F32("layers.1.weight", []int{2}, []float32{7, 8}),
		Tensor{Name: "ids", DType: Int32, Shape: []int{1}, Data: []byte{1, 0, 0, 0}})
	if err := os.WriteFile(filepath.Join(dir, IndexFileName), []byte(indexJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const goodIndex = `{"metadata": {"total_size": 36}, "weight_map": {
	"embed.weight": "model-00001-of-00002.safetensors",
	"layers.0.weight": "model-00001-of-00002.safetensors",
	"layers.1.weight": "model-00002-of-00002.safetensors",
	"ids": "model-00002-of-00002.safetensors"}}`

func TestOpenDirSharded(t *testing.T) {
	dir := shardedCheckpoint(t, goodIndex)
	for _, path := range []string{dir, filepath.Join(dir, IndexFileName)} {
		s, err := OpenDir(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if want := []string{"embed.weight", "ids", "layers.0.weight", "layers.1.weight"}; !slices.Equal(s.Names(), want) {
			t.Errorf("names %v, want %v", s.Names(), want)
		}
		if len(s.Files()) != 2 || s.Source() != filepath.Join(dir, IndexFileName) {
			t.Errorf("files %d, source %s", len(s.Files()), s.Source())
		}
		got, err := s.Float32("layers.1.weight")
		if err != nil || !slices.Equal(got, []float32{7, 8}) {
			t.Errorf("layers.1.weight = %v, %v", got, err)
		}
		view, ok := s.Float32View("embed.weight")
		if !ok || !slices.Equal(view, []float32{1, 2, 3, 4}) {
			t.Errorf("view of embed.weight = %v, %v", view, ok)
		}
		if info, ok := s.Info("embed.weight"); !ok || !slices.Equal(info.Shape, []int{2, 2}) {
			t.Errorf("info = %+v, %v", info, ok)
		}
		if file, _ := s.FileOf("ids"); filepath.Base(file) != "model-00002-of-00002.safetensors" {
			t.Errorf("ids is in %s", file)
		}
		if raw, ok := s.Bytes("ids"); !ok || len(raw) != 4 || raw[0] != 1 {
			t.Errorf("bytes of ids = %v, %v", raw, ok)
		}
		// Errors from a shard name the shard file.
		_, err = s.Float32("ids")
		wantErr(t, err, "model-00002-of-00002.safetensors", `"ids"`, "I32")
		_, err = s.Float32("nope")
		wantErr(t, err, `no tensor "nope"`)
		if _, ok := s.Info("nope"); ok {
			t.Error("Info of a missing tensor succeeded")
		}
	}
}

func TestOpenDirSingle(t *testing.T) {
	dir := t.TempDir()
	single := filepath.Join(dir, SingleFileName)
	if err := Write(single, []Tensor{F32("w", []int{1}, []float32{3})}, nil); err != nil {
		t.Fatal(err)
	}
	// A single file wins over an index in the same directory, as in transformers.
	if err := os.WriteFile(filepath.Join(dir, IndexFileName), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, single} {
		s, err := OpenDir(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Float32("w")
		if err != nil || !slices.Equal(got, []float32{3}) || s.Source() != single {
			t.Errorf("OpenDir(%s): w = %v, %v, source %s", path, got, err, s.Source())
		}
		s.Close()
	}
}

func TestOpenDirFailures(t *testing.T) {
	shard1 := "model-00001-of-00002.safetensors"
	cases := []struct {
		name  string
		index string
		setup func(t *testing.T, dir string) // optional change to the shards
		want  []string
	}{
		{"missing shard", `{"weight_map": {"embed.weight": "model-00003-of-00003.safetensors"}}`,
			nil, []string{"shard model-00003-of-00003.safetensors", "no such file"}},
		{"listed but absent", `{"weight_map": {"embed.weight": "` + shard1 + `", "lm_head.weight": "` + shard1 + `"}}`,
			nil, []string{`"lm_head.weight"`, "absent", shard1}},
		{"in two shards", `{"weight_map": {"embed.weight": "` + shard1 + `", "layers.0.weight": "` + shard1 + `",
			"dup": "` + shard1 + `", "layers.1.weight": "model-00002-of-00002.safetensors", "ids": "model-00002-of-00002.safetensors"}}`,
			addToBothShards("dup"), []string{`"dup"`, "two shards", shard1, "model-00002-of-00002.safetensors"}},
		{"not listed", `{"weight_map": {"embed.weight": "` + shard1 + `", "layers.0.weight": "` + shard1 + `",
			"layers.1.weight": "model-00002-of-00002.safetensors"}}`,
			nil, []string{`"ids"`, "not listed"}},
		{"listed twice", `{"weight_map": {"embed.weight": "` + shard1 + `", "embed.weight": "model-00002-of-00002.safetensors"}}`,
			nil, []string{`duplicate key "embed.weight"`}},
		{"path escape", `{"weight_map": {"embed.weight": "../` + shard1 + `"}}`, nil, []string{"not a plain file name"}},
		{"shard not a string", `{"weight_map": {"embed.weight": 3}}`, nil, []string{`"embed.weight"`, "not a string"}},
		{"no weight_map", `{"metadata": {}}`, nil, []string{"no weight_map"}},
		{"empty weight_map", `{"weight_map": {}}`, nil, []string{"no tensors"}},
		{"malformed", `{"weight_map": `, nil, []string{"malformed JSON"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := shardedCheckpoint(t, c.index)
			if c.setup != nil {
				c.setup(t, dir)
			}
			s, err := OpenDir(dir)
			if err == nil {
				s.Close()
			}
			wantErr(t, err, append([]string{filepath.Join(dir, IndexFileName)}, c.want...)...)
		})
	}
}

func TestOpenDirNothingThere(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenDir(dir)
	wantErr(t, err, dir, SingleFileName, IndexFileName)
	_, err = OpenDir(filepath.Join(dir, "missing"))
	wantErr(t, err, "missing")
}

// addToBothShards rewrites the two shards of shardedCheckpoint so that both hold a tensor named name.
func addToBothShards(name string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		shards := map[string][]string{
			"model-00001-of-00002.safetensors": {"embed.weight", "layers.0.weight", name},
			"model-00002-of-00002.safetensors": {"layers.1.weight", "ids", name},
		}
		for file, names := range shards {
			var tensors []Tensor
			for _, n := range names {
				tensors = append(tensors, F32(n, []int{1}, []float32{1}))
			}
			if err := Write(filepath.Join(dir, file), tensors, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}
