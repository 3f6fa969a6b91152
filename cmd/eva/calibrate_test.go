package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/peft"
)

func TestCalibrateWritesAdapterStateAndReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "adapter")
	code, stdout, errOut := runCLI(t, "calibrate", "--model", filepath.Join(fixtures, "llama"),
		"--data", filepath.Join(fixtures, "llama", "eval.jsonl"), "--out", out, "--r", "4", "--batch-size", "2", "--svd", "exact")
	if code != 0 {
		t.Fatalf("calibrate failed (%d): %s", code, errOut)
	}
	if !strings.Contains(stdout, "EVR captured") {
		t.Errorf("no report table in the output:\n%s", stdout)
	}
	for _, f := range []string{peft.ConfigFile, peft.WeightsFile, stateFile, reportTable, reportJSONL, reportSVGFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	c, layers, err := peft.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	st, err := eva.Load(filepath.Join(out, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, l := range layers {
		total += l.Rank
	}
	if c.R != 4 || total != 4*len(st.Layers) {
		t.Errorf("r %d, ranks sum to %d for %d layers: the budget r·layers must be conserved", c.R, total, len(st.Layers))
	}
	for _, l := range layers {
		for _, v := range l.B {
			if v != 0 {
				t.Fatalf("%s: B is not zero", l.Module)
			}
		}
	}
	// The saved state reproduces the same adapter without data.
	again := filepath.Join(t.TempDir(), "again")
	if code, _, errOut := runCLI(t, "calibrate", "--model", filepath.Join(fixtures, "llama"), "--state",
		filepath.Join(out, stateFile), "--out", again); code != 0 {
		t.Fatalf("calibrate --state failed: %s", errOut)
	}
	for _, f := range []string{peft.ConfigFile, peft.WeightsFile} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(again, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs when written from the saved state", f)
		}
	}
}

// TestCalibrateBadInput checks that each kind of bad input gives a clear error and no output dir.
func TestCalibrateBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, nil, 0o644)
	short := filepath.Join(dir, "short.jsonl")
	os.WriteFile(short, []byte(`{"input_ids": [0, 5, 6]}`+"\n"), 0o644)
	good := filepath.Join(fixtures, "llama", "eval.jsonl")
	nanModel := copyDir(t, filepath.Join(fixtures, "llama"))
	poisonTensor(t, filepath.Join(nanModel, "model.safetensors"), "model.layers.0.input_layernorm.weight")
	llama := filepath.Join(fixtures, "llama")
	cases := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"empty data", []string{"--model", llama, "--data", empty}, []string{"empty.jsonl", "no examples"}},
		{"too few tokens", []string{"--model", llama, "--data", short, "--r", "8"}, []string{"enough tokens"}},
		{"target matches nothing", []string{"--model", llama, "--data", good, "--targets", "c_attn"}, []string{"c_attn", "matches no"}},
		{"r above a layer's input size", []string{"--model", llama, "--data", good, "--r", "40"}, []string{"q_proj"}},
		{"rho below 1", []string{"--model", llama, "--data", good, "--rho", "0.5"}, []string{"rho"}},
		{"tau above 1", []string{"--model", llama, "--data", good, "--tau", "1.5"}, []string{"tau"}},
		{"unknown svd mode", []string{"--model", llama, "--data", good, "--svd", "magic"}, []string{"magic"}},
		{"NaN activations", []string{"--model", nanModel, "--data", good}, []string{"NaN"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, errOut := runCLI(t, append([]string{"calibrate", "--out", out}, c.args...)...)
			if code == 0 {
				t.Fatal("calibrate succeeded")
			}
			for _, w := range c.wants {
				if !strings.Contains(errOut, w) {
					t.Errorf("error %q does not mention %q", errOut, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output directory exists after a failure")
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

// poisonTensor rewrites one F32 tensor of a safetensors file with NaN in its first element.
func poisonTensor(t *testing.T, path, name string) {
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var all []safetensors.Tensor
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		raw, _ := f.Bytes(n)
		data := append([]byte(nil), raw...)
		if n == name {
			binary.LittleEndian.PutUint32(data, math.Float32bits(float32(math.NaN())))
		}
		all = append(all, safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: data})
	}
	f.Close()
	if err := safetensors.Write(path, all, nil); err != nil {
		t.Fatal(err)
	}
}
