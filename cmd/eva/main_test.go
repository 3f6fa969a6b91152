package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eva-lora/eva/hf/safetensors"
)

const fixtures = "../../testdata/models"

// runCLI runs eva with args and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// copyDir copies the regular files of a fixture directory into a fresh temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestHelp(t *testing.T) {
	code, out, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "eval") || !strings.Contains(out, "info") {
		t.Fatalf("help: code %d, output %q", code, out)
	}
	code, out, _ = runCLI(t, "help", "eval")
	if code != 0 || !strings.Contains(out, "-dump-logits") {
		t.Fatalf("help eval: code %d, output %q", code, out)
	}
	if code, _, _ := runCLI(t, "eval", "--help"); code != 0 {
		t.Fatalf("eval --help: code %d", code)
	}
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: code %d, %q", code, errOut)
	}
}

// TestEvalTextMatchesTransformers tokenises the fixture texts with the checkpoint's tokenizer.json,
// evaluates them and compares the dumped logits and ids with those transformers produced.
func TestEvalTextMatchesTransformers(t *testing.T) {
	var texts struct {
		Texts []string `json:"texts"`
	}
	b, err := os.ReadFile(filepath.Join(fixtures, "llama", "texts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &texts); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var lines []string
	for _, s := range texts.Texts {
		l, _ := json.Marshal(map[string]string{"text": s})
		lines = append(lines, string(l))
	}
	dataPath := filepath.Join(dir, "texts.jsonl")
	if err := os.WriteFile(dataPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(dir, "logits.safetensors")
	code, out, errOut := runCLI(t, "eval", "--model", filepath.Join(fixtures, "llama"), "--data", dataPath,
		"--batch-size", "3", "--dump-logits", dump)
	if code != 0 {
		t.Fatalf("eval failed (%d): %s", code, errOut)
	}
	if !strings.Contains(out, "perplexity") {
		t.Fatalf("output %q", out)
	}
	got, err := safetensors.OpenDir(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	ref, err := safetensors.OpenDir(filepath.Join(fixtures, "llama", "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	gi, err := got.Int64("input_ids")
	if err != nil {
		t.Fatal(err)
	}
	ri, _ := ref.Int64("input_ids")
	if !slices.Equal(gi, ri) {
		t.Fatalf("input_ids differ from transformers' tokenisation:\n got %v\nwant %v", gi, ri)
	}
	gl, err := got.Float32("logits")
	if err != nil {
		t.Fatal(err)
	}
	rl, _ := ref.Float32("logits")
	var diff, scale float64
	for i := range rl {
		diff = math.Max(diff, math.Abs(float64(gl[i]-rl[i])))
		scale = math.Max(scale, math.Abs(float64(rl[i])))
	}
	if diff/scale > 1e-5 {
		t.Fatalf("dumped logits: relative error %.3g", diff/scale)
	}
}

// TestBadCheckpoints breaks a copy of a fixture in each way a user's files can be broken and checks
// for a clear error that names the file, a non-zero exit code and no panic.
func TestBadCheckpoints(t *testing.T) {
	data := filepath.Join(fixtures, "llama", "eval.jsonl")
	cases := []struct {
		name  string
		mess  func(dir string)
		wants []string
	}{
		{"truncated safetensors", func(dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, []string{"model.safetensors"}},
		{"header length beyond the file", func(dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b, _ := os.ReadFile(p)
			binary.LittleEndian.PutUint64(b, uint64(len(b)))
			os.WriteFile(p, b, 0o644)
		}, []string{"model.safetensors", "header"}},
		{"malformed config", func(dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "llama",`), 0o644)
		}, []string{"config.json"}},
		{"unknown model_type", func(dir string) {
			editConfig(t, dir, func(c map[string]any) { c["model_type"] = "bert" })
		}, []string{"config.json", "bert"}},
		{"shape disagrees with config", func(dir string) {
			editConfig(t, dir, func(c map[string]any) { c["intermediate_size"] = 100 })
		}, []string{"model.safetensors", "gate_proj", "config.json"}},
		{"missing tensor", func(dir string) {
			dropTensor(t, filepath.Join(dir, "model.safetensors"), "model.layers.1.mlp.up_proj.weight")
		}, []string{"model.safetensors", "model.layers.1.mlp.up_proj.weight", "missing"}},
		{"no weights", func(dir string) {
			os.Remove(filepath.Join(dir, "model.safetensors"))
		}, []string{"model.safetensors"}},
		{"malformed tokenizer", func(dir string) {
			os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(`{"model": [`), 0o644)
		}, []string{"tokenizer.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join(fixtures, "llama"))
			c.mess(dir)
			code, _, errOut := runCLI(t, "eval", "--model", dir, "--data", data)
			if code == 0 {
				t.Fatal("eval succeeded on a broken checkpoint")
			}
			for _, w := range c.wants {
				if !strings.Contains(errOut, w) {
					t.Errorf("error %q does not mention %q", errOut, w)
				}
			}
		})
	}
}

func TestBadData(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(p, []byte("{\"text\": \"fine\"}\n{\"input_ids\": [1, 99999]}\n"), 0o644)
	code, _, errOut := runCLI(t, "eval", "--model", filepath.Join(fixtures, "llama"), "--data", p)
	if code == 0 || !strings.Contains(errOut, "bad.jsonl") || !strings.Contains(errOut, "outside the vocabulary") {
		t.Fatalf("code %d, error %q", code, errOut)
	}
	os.WriteFile(p, []byte("{\"text\": \"fine\"}\nnot json\n"), 0o644)
	code, _, errOut = runCLI(t, "eval", "--model", filepath.Join(fixtures, "llama"), "--data", p)
	if code == 0 || !strings.Contains(errOut, "bad.jsonl: line 2") {
		t.Fatalf("code %d, error %q", code, errOut)
	}
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	p := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	edit(c)
	b, _ = json.Marshal(c)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dropTensor rewrites a safetensors file without one tensor.
func dropTensor(t *testing.T, path, name string) {
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var keep []safetensors.Tensor
	for _, n := range f.Names() {
		if n == name {
			continue
		}
		info, _ := f.Info(n)
		raw, _ := f.Bytes(n)
		keep = append(keep, safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: append([]byte(nil), raw...)})
	}
	f.Close()
	if err := safetensors.Write(path, keep, nil); err != nil {
		t.Fatal(err)
	}
}
