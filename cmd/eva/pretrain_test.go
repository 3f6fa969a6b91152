package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/models"
)

// TestPretrainWritesALoadableCheckpoint pretrains a tiny Llama for a few steps and checks that the
// output opens as a Hugging Face checkpoint (bfloat16 weights, tied head, the tokenizer copied), that
// the validation loss fell below the uniform-guess loss ln(vocab), and that a second run refuses the
// directory without --resume.
func TestPretrainWritesALoadableCheckpoint(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	writeCorpus(t, corpus, 120)
	out := filepath.Join(dir, "model")
	args := []string{"pretrain", "--tokenizer", filepath.Join(fixtures, "llama"), "--data", corpus, "--out", out,
		"--hidden", "32", "--intermediate", "64", "--layers", "2", "--heads", "2", "--max-length", "24",
		"--batch-size", "8", "--steps", "40", "--lr", "1e-2", "--save-every", "20"}
	code, stdout, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("pretrain: %s", errOut)
	}
	_, after, ok := strings.Cut(stdout, "validation loss ")
	var loss float64
	if !ok {
		t.Fatalf("output %q", stdout)
	}
	if _, err := fmt.Sscanf(after, "%g", &loss); err != nil || !(loss < math.Log(320)-0.5) {
		t.Errorf("validation loss %v (%v), want well below ln(320) = %.2f", loss, err, math.Log(320))
	}
	ck, err := models.Open(out, cpu.New())
	if err != nil {
		t.Fatal(err)
	}
	if ck.Config.HiddenSize != 32 || !ck.Config.TieWordEmbeddings || ck.Config.TorchDType != "bfloat16" || ck.Tokenizer == nil {
		t.Errorf("config %+v", ck.Config)
	}
	code, evalOut, _ := runCLI(t, "eval", "--model", out, "--data", corpus)
	if code != 0 || !strings.Contains(evalOut, "loss") {
		t.Fatalf("eval of the pretrained model: %q", evalOut)
	}
	if code, _, errOut := runCLI(t, args...); code == 0 || !strings.Contains(errOut, "--resume") {
		t.Errorf("a second pretrain into %s: exit %d, %q", out, code, errOut)
	}
	if code, _, errOut := runCLI(t, append(args, "--resume")...); code != 0 {
		t.Errorf("--resume of a finished run: %s", errOut)
	}
	if code, _, errOut := runCLI(t, "pretrain", "--tokenizer", filepath.Join(fixtures, "llama"), "--data", corpus,
		"--out", filepath.Join(dir, "bad"), "--hidden", "30", "--heads", "4"); code == 0 || !strings.Contains(errOut, "heads") {
		t.Errorf("hidden 30 with 4 heads: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
		t.Error("a failed pretrain left its output directory")
	}
}
