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

const benchUsage = "list | run SUITE [--out DIR] [--seeds N] [--quick] [--shard K/N] | merge SUITE [--out DIR]"

var benchCommand = command{
	summary: "Run named benchmark suites that compare LoRA initialisations.\n" +
		"`eva bench list` shows the suites. `eva bench run SUITE` runs one, writes SUITE.json (every run and\n" +
		"summary) and SUITE.md (the report) into --out, replacing earlier versions atomically, and prints the report.",
	usage: benchUsage,
	setup: func(fs *flag.FlagSet) action {
		out := fs.String("out", filepath.Join("out", "bench"), "output `dir`ectory for SUITE.json and SUITE.md")
		seeds := fs.Int("seeds", 3, "seeds per configuration")
		quick := fs.Bool("quick", false, "run the suite's reduced configuration (seconds instead of minutes)")
		modelDir := fs.String("model", "", "model `dir`ectory for suites that fine-tune (default: the house model)")
		dataDir := fs.String("data-dir", "", "prepared datasets `dir`ectory (default: the datasets cache)")
		fresh := fs.Bool("fresh", false, "start a grid suite over instead of continuing an unfinished earlier run in --out")
		shard := fs.String("shard", "", "run only part `K/N` of a grid suite's runs (0 ≤ K < N) into SUITE.shard-K-of-N.json; join the parts with `eva bench merge`")
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
				opts := bench.Options{Seeds: *seeds, Quick: *quick, Log: io.log, Model: *modelDir, DataDir: *dataDir}
				if *shard != "" {
					if _, err := fmt.Sscanf(*shard, "%d/%d", &opts.Shard, &opts.Shards); err != nil || opts.Shards < 1 || opts.Shard < 0 || opts.Shard >= opts.Shards {
						return fmt.Errorf("--shard %q: want K/N with 0 ≤ K < N", *shard)
					}
				}
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return benchRun(ctx, io, suite, opts, *out, *fresh)
			case "merge":
				if len(pos) != 2 {
					return errors.New("usage: eva bench merge SUITE [--out DIR]")
				}
				return benchMerge(io, pos[1], *out)
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

// benchRun runs suite and writes its results (a shard's part under SUITE.shard-K-of-N). A grid
// suite rewrites its result file after every run and, unless fresh, continues an unfinished one.
func benchRun(ctx context.Context, io streams, suite bench.Suite, opts bench.Options, dir string, fresh bool) error {
	name := suite.Name
	if opts.Shards > 1 {
		name = fmt.Sprintf("%s.shard-%d-of-%d", suite.Name, opts.Shard, opts.Shards)
	}
	path := filepath.Join(dir, name+".json")
	if b, err := os.ReadFile(path); err == nil && !fresh {
		var prev bench.GridResults
		if err := json.Unmarshal(b, &prev); err != nil {
			return fmt.Errorf("%s: %w (delete it or pass --fresh)", path, err)
		}
		if prev.Suite == suite.Name && prev.Total > 0 && !prev.Complete {
			opts.Resume = &prev
			fmt.Fprintf(io.log, "continuing %s: %d runs done (--fresh starts over)\n", path, len(prev.Runs))
		}
	}
	opts.Checkpoint = func(r *bench.GridResults) error { return saveBench(r, name, dir) }
	res, err := suite.Run(ctx, opts)
	if err != nil {
		return fmt.Errorf("suite %s: %w", suite.Name, err)
	}
	return writeBench(io, res, name, dir)
}

// writeBench writes dir/NAME.json and dir/NAME.md and prints the Markdown report.
func writeBench(io streams, res bench.Results, name, dir string) error {
	if err := saveBench(res, name, dir); err != nil {
		return err
	}
	fmt.Fprint(io.out, res.Markdown())
	fmt.Fprintf(io.log, "wrote %s and %s\n", filepath.Join(dir, name+".json"), filepath.Join(dir, name+".md"))
	return nil
}

// saveBench writes dir/NAME.json and dir/NAME.md, each replaced atomically, other files in dir kept.
func saveBench(res bench.Results, name, dir string) error {
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: encoding the results as JSON: %w", name, err)
	}
	md := res.Markdown()
	return atomicdir.Write(dir, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, name+".json"), append(js, '\n'), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, name+".md"), []byte(md), 0o644)
	})
}

// benchMerge joins dir/SUITE.shard-*.json into dir/SUITE.json and dir/SUITE.md.
func benchMerge(io streams, suite, dir string) error {
	paths, err := filepath.Glob(filepath.Join(dir, suite+".shard-*.json"))
	if err != nil || len(paths) == 0 {
		return fmt.Errorf("merge: no %s.shard-*.json files in %s", suite, dir)
	}
	var parts []*bench.GridResults
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r bench.GridResults
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("merge: %s: %w", p, err)
		}
		parts = append(parts, &r)
	}
	merged, err := bench.MergeGrid(parts)
	if err != nil {
		return err
	}
	return writeBench(io, merged, suite, dir)
}
