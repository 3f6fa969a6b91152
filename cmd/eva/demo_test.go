package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/bench"
)

// writeTask writes bench.ToyTask as a prepared task called name into dir.
func writeTask(t *testing.T, dir, name string) {
	t.Helper()
	train, valid, test, labels := bench.ToyTask(50)
	if err := bench.WriteTask(dir, name, train, valid, test, labels); err != nil {
		t.Fatal(err)
	}
}

// TestDemoOnEveryArchitecture runs eva demo with --model on each fixture checkpoint (Llama, Qwen2,
// GPT-2) and checks the comparison table, the adapters and the report.
func TestDemoOnEveryArchitecture(t *testing.T) {
	data := t.TempDir()
	writeTask(t, data, "toy")
	for _, arch := range []string{"llama", "qwen2", "gpt2", "mistral"} {
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
