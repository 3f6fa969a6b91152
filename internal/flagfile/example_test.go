package flagfile_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eva-lora/eva/internal/flagfile"
)

// A command opts in with Register; its caller parses with Load. Flags on the command line win.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "flagfile")
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "calibrate.yaml")
	os.WriteFile(cfg, []byte("r: 8\nbatch_size: 16\ntargets: [q_proj, v_proj]\n"), 0o644)

	fs := flag.NewFlagSet("eva calibrate", flag.ContinueOnError)
	flagfile.Register(fs)
	r := fs.Int("r", 16, "LoRA rank")
	batch := fs.Int("batch-size", 4, "sequences per batch")
	targets := fs.String("targets", "all-linear", "target layers")
	if err := flagfile.Load(fs, []string{"--config", cfg, "--r", "4"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*r, *batch, *targets)
	// Output: 4 16 q_proj,v_proj
}
