package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/eva-lora/eva/bench"
	"github.com/eva-lora/eva/internal/atomicdir"
)

const benchUsage = "list | run SUITE [--out DIR] [--seeds N] [--quick]"

var benchCommand = command{
	summary: "Run named benchmark suites that compare LoRA initialisations.\n" +
		"`eva bench list` shows the suites. `eva bench run SUITE` runs one, writes SUITE.json (every run and\n" +
		"summary) and SUITE.md (the report) into --out, replacing earlier versions atomically, and prints the report.",
	usage: benchUsage,
	setup: func(fs *flag.FlagSet) action {
		out := fs.String("out", filepath.Join("out", "bench"), "output `dir`ectory for SUITE.json and SUITE.md")
		seeds := fs.Int("seeds", 3, "seeds per configuration")
		quick := fs.Bool("quick", false, "run the suite's reduced configuration (seconds instead of minutes)")
		return func(io streams, args []string) error {
			// Flags may also follow the subcommand and the suite: parse what comes after each positional.
			var pos []string
			for len(args) > 0 {
				pos = append(pos, args[0])
				if err := fs.Parse(args[1:]); err != nil {
					return err
				}
				args = fs.Args()
			}
			if len(pos) == 0 {
				return errors.New("usage: eva bench " + benchUsage)
			}
			switch pos[0] {
			case "list":
				if len(pos) != 1 {
					return errors.New("usage: eva bench list")
				}
				return benchList(io)
			case "run":
				if len(pos) != 2 {
					return errors.New("usage: eva bench run SUITE [--out DIR] [--seeds N] [--quick]")
				}
				if *seeds < 1 {
					return fmt.Errorf("--seeds %d: want at least 1", *seeds)
				}
				suite, err := bench.LookupSuite(pos[1])
				if err != nil {
					return err
				}
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return benchRun(ctx, io, suite, bench.Options{Seeds: *seeds, Quick: *quick, Log: io.log}, *out)
			}
			return fmt.Errorf("unknown subcommand %q; usage: eva bench %s", pos[0], benchUsage)
		}
	},
}

// benchList prints one line per registered suite.
func benchList(io streams) error {
	tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUITE\tDESCRIPTION")
	for _, s := range bench.Suites() {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Description)
	}
	return tw.Flush()
}

// benchRun runs suite, writes dir/NAME.json and dir/NAME.md (each replaced atomically, other files
// in dir kept) and prints the Markdown report.
func benchRun(ctx context.Context, io streams, suite bench.Suite, opts bench.Options, dir string) error {
	res, err := suite.Run(ctx, opts)
	if err != nil {
		return fmt.Errorf("suite %s: %w", suite.Name, err)
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("suite %s: encoding the results as JSON: %w", suite.Name, err)
	}
	md := res.Markdown()
	err = atomicdir.Write(dir, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, suite.Name+".json"), append(js, '\n'), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, suite.Name+".md"), []byte(md), 0o644)
	})
	if err != nil {
		return err
	}
	fmt.Fprint(io.out, md)
	fmt.Fprintf(io.log, "wrote %s and %s\n", filepath.Join(dir, suite.Name+".json"), filepath.Join(dir, suite.Name+".md"))
	return nil
}
