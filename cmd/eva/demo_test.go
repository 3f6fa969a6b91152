package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTask writes a prepared classification task called name into dir (the label is the prompt's
// first word).
func writeTask(t *testing.T, dir, name string) {
	t.Helper()
	for split, n := range map[string]int{"train": 32, "valid": 6, "test": 6} {
		var b strings.Builder
		for i := range n {
			w := []string{"red", "blue"}[i%2]
			line, _ := json.Marshal(map[string]string{"prompt": fmt.Sprintf("%s thing %d is", w, i), "completion": " " + w})
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, name+"."+split+".jsonl"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := `{"name": "` + name + `", "kind": "task", "labels": [" blue", " red"]}`
	if err := os.WriteFile(filepath.Join(dir, name+".meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDemoOnEveryArchitecture runs eva demo with --model on each fixture checkpoint (Llama, Qwen2,
// GPT-2) and checks the comparison table, the adapters and the report.
func TestDemoOnEveryArchitecture(t *testing.T) {
	data := t.TempDir()
	writeTask(t, data, "toy")
	for _, arch := range []string{"llama", "qwen2", "gpt2"} {
		out := filepath.Join(t.TempDir(), "demo")
		code, stdout, errOut := runCLI(t, "demo", "--model", filepath.Join(fixtures, arch), "--task", "toy", "--data-dir", data,
			"--steps", "6", "--max-length", "32", "--batch-size", "4", "--out", out)
		if code != 0 {
			t.Fatalf("%s: %s", arch, errOut)
		}
		for _, s := range []string{"eva", "kaiming", "pissa", "accuracy", "valid loss"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("%s: the table lacks %q:\n%s", arch, s, stdout)
			}
		}
		for _, f := range []string{"report.html", "loss.svg", "eva/adapter_model.safetensors", "pissa/adapter_config.json"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%s: %v", arch, err)
			}
		}
	}
}

// TestDemoMissingDataSaysHowToInstall: a task whose source package is absent stops the demo with the
// command that installs it.
func TestDemoMissingDataSaysHowToInstall(t *testing.T) {
	t.Setenv("EVA_DATA_SOURCES", t.TempDir())
	code, _, errOut := runCLI(t, "demo", "--model", filepath.Join(fixtures, "llama"), "--task", "spam", "--data-dir", t.TempDir(), "--out", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "scripts/setup.sh --data") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}
