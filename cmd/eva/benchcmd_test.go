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
