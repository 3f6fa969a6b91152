package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eva-lora/eva/hf/safetensors"
)

// TestMain lets a test run the eva command in a child process (the kill test): with
// EVA_CLI_ARGS set, the test binary is eva.
func TestMain(m *testing.M) {
	if args := os.Getenv("EVA_CLI_ARGS"); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Exit(run(a, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// writeCorpus writes n JSONL lines of simple repetitive English text.
func writeCorpus(t *testing.T, path string, n int) {
	t.Helper()
	words := []string{"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "house", "red", "big"}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range n {
		var line []string
		for range 8 + rng.IntN(12) {
			line = append(line, words[rng.IntN(len(words))])
		}
		j, _ := json.Marshal(map[string]string{"text": strings.Join(line, " ") + "."})
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func trainArgs(data, out string, extra ...string) []string {
	return append([]string{"train", "--model", filepath.Join(fixtures, "llama"), "--data", data, "--out", out,
		"--init", "eva", "--r", "4", "--max-length", "24", "--batch-size", "2", "--grad-accum", "2", "--steps", "300",
		"--save-every", "3", "--eval-every", "20", "--dropout", "0.1", "--lr", "5e-3", "--schedule", "cosine",
		"--warmup", "5", "--loraplus-ratio", "4", "--seed", "9"}, extra...)
}

// adapterTensors reads every tensor of an adapter's safetensors file.
func adapterTensors(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, "adapter_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]float32{}
	for _, n := range f.Names() {
		if out[n], err = f.Float32(n); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// loggedSteps counts the training-loss lines of a run's metrics file (0 when it has none yet).
func loggedSteps(out string) int {
	b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\"loss\"")
}

// TestKilledRunResumesExactly kills `eva train` with SIGKILL at random moments (at least five times,
// each after it has made progress), resumes it with --resume until it finishes, and checks that the
// final adapter is bit for bit the adapter of an uninterrupted run with the same seed.
func TestKilledRunResumesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test runs eva in child processes")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "train.jsonl")
	writeCorpus(t, data, 200)

	ref := filepath.Join(dir, "ref")
	if code, _, errOut := runCLI(t, trainArgs(data, ref)...); code != 0 {
		t.Fatalf("uninterrupted run: %s", errOut)
	}
	want := adapterTensors(t, ref)

	out := filepath.Join(dir, "killed")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	kills := 0
	var killedAt []string // the latest checkpoint at each kill
	for attempt := 0; ; attempt++ {
		if attempt > 60 {
			t.Fatal("the run did not finish")
		}
		args, _ := json.Marshal(trainArgs(data, out, "--resume"))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "EVA_CLI_ARGS="+string(args), "GOMAXPROCS=2")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if kills < 5 || rng.IntN(2) == 0 {
			// Kill after a random number of further logged steps (so every kill follows progress,
			// however slow the machine), plus a random delay that lands anywhere in a step.
			target := loggedSteps(out) + 1 + rng.IntN(12)
			delay := time.Duration(rng.IntN(40)) * time.Millisecond
			finished := false
			for !finished && loggedSteps(out) < target {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("run failed: %v\n%s", err, stderr.String())
					}
					finished = true
				case <-time.After(5 * time.Millisecond):
				}
			}
			if finished {
				goto finished
			}
			time.Sleep(delay)
			cmd.Process.Signal(syscall.SIGKILL)
			if err := <-done; err == nil { // it finished just before the signal
				goto finished
			}
			kills++
			entries, _ := os.ReadDir(filepath.Join(out, "checkpoints"))
			last := "none"
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "step-") {
					last = e.Name()
				}
			}
			killedAt = append(killedAt, last)
			continue
		}
		if err := <-done; err != nil {
			t.Fatalf("run failed: %v\n%s", err, stderr.String())
		}
		break
	}
finished:
	if kills < 5 {
		t.Fatalf("only %d kills happened before the run finished", kills)
	}
	got := adapterTensors(t, out)
	if len(got) != len(want) {
		t.Fatalf("%d tensors after kills, %d uninterrupted", len(got), len(want))
	}
	for n, w := range want {
		if !slices.Equal(got[n], w) {
			t.Fatalf("tensor %s differs after %d kills", n, kills)
		}
	}
	distinct := map[string]bool{}
	for _, k := range killedAt {
		distinct[k] = true
	}
	if len(distinct) < 3 {
		t.Errorf("the kills hit only %d distinct moments: %v", len(distinct), killedAt)
	}
	t.Logf("%d kills (latest checkpoints then: %v), final adapter identical", kills, killedAt)
}

// TestTrainBadInput checks that bad settings and data stop eva train with a clear message and leave no
// output directory.
func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.jsonl")
	writeCorpus(t, data, 20)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"text\": \"fine\"}\n{\"text\": oops}\n"), 0o644)
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, []byte("\n"), 0o644)
	unknownKey := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("r: 4\nlearning_rate: 0.1\n"), 0o644)
	wrongType := filepath.Join(dir, "wrong.json")
	os.WriteFile(wrongType, []byte("{\"r\": \"four\"}"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"rank 0", []string{"--data", data, "--r", "0"}, "rank must be ≥ 1"},
		{"negative lr", []string{"--data", data, "--lr", "-1"}, "learning rate must be > 0"},
		{"invalid JSON line", []string{"--data", bad}, "line 2"},
		{"empty data", []string{"--data", empty}, "empty"},
		{"empty validation split", []string{"--data", data, "--eval-data", empty}, "empty"},
		{"unknown config key", []string{"--data", data, "--config", unknownKey}, "learning_rate"},
		{"wrong config type", []string{"--data", data, "--config", wrongType}, "\"r\""},
		{"unknown init", []string{"--data", data, "--init", "magic"}, "magic"},
		{"adapter of another model", []string{"--data", data, "--adapter", filepath.Join("../../testdata/peft/eva-init"), "--model", filepath.Join(fixtures, "gpt2")}, "adapter"},
	} {
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-"))
		args := append([]string{"train", "--model", filepath.Join(fixtures, "llama"), "--out", out, "--max-length", "16", "--steps", "2"}, c.args...)
		code, _, errOut := runCLI(t, args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q (want it to mention %q)", c.name, code, errOut, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			entries, _ := os.ReadDir(out)
			t.Errorf("%s: left %s behind (%d entries)", c.name, out, len(entries))
		}
	}
}
