package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eva-lora/eva/bench"
)

// runBench runs `eva bench ARGS` the way run does, without needing the commands table.
func runBench(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, log bytes.Buffer
	fs := newFlagSet("bench", benchCommand, &log)
	act := benchCommand.setup(fs)
	if err := fs.Parse(args); err != nil {
		return "", log.String(), err
	}
	err := act(streams{out: &out, log: &log}, fs.Args())
	return out.String(), log.String(), err
}

// stubResults is a minimal bench.Results.
type stubResults struct {
	Seeds int  `json:"seeds"`
	Quick bool `json:"quick"`
}

func (s stubResults) Markdown() string { return "| seeds |\n| --- |\n| 2 |\n" }

func TestBenchRunWritesBothFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results")
	suite := bench.Suite{Name: "stub", Description: "a stub", Run: func(ctx context.Context, opts bench.Options) (bench.Results, error) {
		return stubResults{Seeds: opts.Seeds, Quick: opts.Quick}, nil
	}}
	var out, log bytes.Buffer
	for round := range 2 { // the second run replaces the files and keeps others
		if round == 1 {
			if err := os.WriteFile(filepath.Join(dir, "other.txt"), []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out.Reset()
		if err := benchRun(context.Background(), streams{out: &out, log: &log}, suite, bench.Options{Seeds: 2 + round, Quick: true}, dir, false); err != nil {
			t.Fatal(err)
		}
		if want := (stubResults{}).Markdown(); out.String() != want {
			t.Errorf("printed %q, want the Markdown report", out.String())
		}
		md, err := os.ReadFile(filepath.Join(dir, "stub.md"))
		if err != nil || string(md) != out.String() {
			t.Errorf("stub.md = %q, %v; want the printed report", md, err)
		}
		var got stubResults
		js, err := os.ReadFile(filepath.Join(dir, "stub.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(js, &got); err != nil || got != (stubResults{Seeds: 2 + round, Quick: true}) {
			t.Errorf("stub.json = %s (%v), want the options passed through", js, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "other.txt")); err != nil || string(b) != "keep" {
		t.Errorf("other files in --out were not kept: %q, %v", b, err)
	}
	failing := bench.Suite{Name: "broken", Run: func(context.Context, bench.Options) (bench.Results, error) {
		return nil, errors.New("boom")
	}}
	if err := benchRun(context.Background(), streams{out: &out, log: &log}, failing, bench.Options{}, dir, false); err == nil || !strings.Contains(err.Error(), "broken: boom") {
		t.Errorf("failing suite: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "broken.md")); !os.IsNotExist(err) {
		t.Errorf("a failed suite left broken.md behind (%v)", err)
	}
}

func TestBenchArguments(t *testing.T) {
	out, _, err := runBench(t, "list")
	if err != nil || !strings.Contains(out, "synthetic") {
		t.Errorf("bench list: %q, %v", out, err)
	}
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"list", "extra"},
		{"run"},
		{"run", "no-such-suite"},
		{"run", "synthetic", "--seeds", "0"},
	} {
		if _, _, err := runBench(t, args...); err == nil {
			t.Errorf("bench %q: no error", args)
		}
	}
}

// TestBenchRunContinuesAnUnfinishedGrid checks that `eva bench run` hands an unfinished grid result
// in --out to the suite as Resume (and not with --fresh), and saves every checkpoint the suite makes.
func TestBenchRunContinuesAnUnfinishedGrid(t *testing.T) {
	dir := t.TempDir()
	prev := bench.GridResults{Suite: "grid", Shards: 1, Total: 3, Runs: []bench.GridRun{{Task: "t", Init: "kaiming", R: 2}}}
	js, _ := json.Marshal(prev)
	if err := os.WriteFile(filepath.Join(dir, "grid.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	var got *bench.GridResults
	suite := bench.Suite{Name: "grid", Run: func(ctx context.Context, opts bench.Options) (bench.Results, error) {
		got = opts.Resume
		r := &bench.GridResults{Suite: "grid", Shards: 1, Total: 3, Runs: []bench.GridRun{{Task: "t", Init: "kaiming", R: 2}, {Task: "t", Init: "eva", R: 2}}}
		if err := opts.Checkpoint(r); err != nil {
			return nil, err
		}
		if b, err := os.ReadFile(filepath.Join(dir, "grid.json")); err != nil || !strings.Contains(string(b), `"eva"`) {
			t.Errorf("the checkpoint was not written to grid.json (%v)", err)
		}
		return nil, errors.New("killed")
	}}
	var out, log bytes.Buffer
	if err := benchRun(context.Background(), streams{out: &out, log: &log}, suite, bench.Options{}, dir, false); err == nil {
		t.Fatal("a failing suite gave no error")
	}
	if got == nil || len(got.Runs) != 1 || !strings.Contains(log.String(), "1 runs done") {
		t.Errorf("resume = %+v, log %q; want the earlier result's run", got, log.String())
	}
	got = nil
	if err := benchRun(context.Background(), streams{out: &out, log: &log}, suite, bench.Options{}, dir, true); err == nil || got != nil {
		t.Errorf("--fresh: resume = %+v (%v), want none", got, err)
	}
}
