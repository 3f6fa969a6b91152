// Command eva fine-tunes Hugging Face causal language models with LoRA adapters initialised by
// Explained Variance Adaptation (EVA). Run `eva help` for the subcommands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"

	"github.com/eva-lora/eva/internal/flagfile"
)

// streams are where a command writes its results (out) and its progress and notes (log).
type streams struct{ out, log io.Writer }

// action runs a command with its positional arguments once its flags are parsed.
type action func(io streams, args []string) error

// command is one subcommand: setup declares its flags and returns what runs once they are parsed.
type command struct {
	summary string
	usage   string
	setup   func(fs *flag.FlagSet) action
}

var commands = map[string]command{
	"bench":     benchCommand,
	"calibrate": calibrateCommand,
	"data":      dataCommand,
	"demo":      demoCommand,
	"eval":      evalCommand,
	"info":      infoCommand,
	"merge":     mergeCommand,
	"pretrain":  pretrainCommand,
	"tokenizer": tokenizerCommand,
	"train":     trainCommand,
}

func main() {
	os.Exit(profiled(os.Getenv("EVA_CPUPROFILE"), os.Stderr, func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

// profiled runs f, writing a CPU profile of it (go tool pprof) to path when path is not empty.
func profiled(path string, stderr io.Writer, f func() int) int {
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "eva: EVA_CPUPROFILE: %v\n", err)
		return 1
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintf(stderr, "eva: EVA_CPUPROFILE: %v\n", err)
		return 1
	}
	defer pprof.StopCPUProfile()
	return f()
}

// run executes a command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(args[1], c, stdout)
				c.setup(fs)
				flagfile.Register(fs)
				fs.Usage()
				return 0
			}
		}
		printHelp(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "eva: unknown command %q\n\n", args[0])
		printHelp(stderr)
		return 2
	}
	fs := newFlagSet(args[0], c, stderr)
	runFn := c.setup(fs)
	flagfile.Register(fs)
	if err := flagfile.Load(fs, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := runFn(streams{out: stdout, log: stderr}, fs.Args()); err != nil {
		fmt.Fprintf(stderr, "eva %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func newFlagSet(name string, c command, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("eva "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: eva %s %s\n\n%s\n\nflags:\n", name, c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "eva: LoRA fine-tuning with Explained Variance Adaptation (EVA) for Hugging Face checkpoints")
	fmt.Fprintln(w, "\nusage: eva <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, strings.SplitN(commands[n].summary, "\n", 2)[0])
	}
	fmt.Fprintln(w, "\nRun `eva <command> --help` for a command's flags.")
}
