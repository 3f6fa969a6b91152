package models

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/hf/safetensors"
)

// TestSaveRoundTrip saves each fixture checkpoint unchanged and checks that every tensor of the
// original files comes back with the same name, shape (GPT-2's Conv1D layout included) and values,
// and that the companion files are copied.
func TestSaveRoundTrip(t *testing.T) {
	for _, name := range []string{"llama", "qwen2", "gpt2", "mistral"} {
		src := filepath.Join(fixtures, name)
		be := cpu.New()
		ck, err := Open(src, be)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "out")
		if err := Save(dst, ck, be, SaveOptions{Metadata: map[string]string{"eva.merged": "test"}}); err != nil {
			t.Fatal(err)
		}
		orig, err := safetensors.OpenDir(src)
		if err != nil {
			t.Fatal(err)
		}
		saved, err := safetensors.Open(filepath.Join(dst, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range saved.Names() {
			oi, ok := orig.Info(n)
			si, _ := saved.Info(n)
			if !ok || !slices.Equal(oi.Shape, si.Shape) {
				t.Fatalf("%s: tensor %s has shape %v, original %v (present %v)", name, n, si.Shape, oi.Shape, ok)
			}
			a, _ := orig.Float32(n)
			b, _ := saved.Float32(n)
			if !slices.Equal(a, b) {
				t.Fatalf("%s: tensor %s changed", name, n)
			}
		}
		orig.Close()
		saved.Close()
		if _, err := os.Stat(filepath.Join(dst, "config.json")); err != nil {
			t.Errorf("%s: config.json not copied: %v", name, err)
		}
		if _, err := Open(dst, be); err != nil {
			t.Errorf("%s: the saved checkpoint does not open: %v", name, err)
		}
	}
}
