package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/eva-lora/eva/bench"
	"github.com/eva-lora/eva/datasets"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/models"
)

var demoCommand = command{
	summary: "Show what EVA buys: fine-tune the same model on the same task from several initialisations.\n" +
		"With no flags it takes eva's house model (a small Llama pretrained by eva on public-domain text,\n" +
		"assets/house-llama) and the spam/ham task, computes EVA (calibration progress, per-layer ranks),\n" +
		"trains LoRA adapters from EVA, PEFT's default and PiSSA with identical seeds and budget, and prints\n" +
		"a table (init time, loss at fixed steps, steps to a target loss, validation loss, task accuracy).\n" +
		"--out receives each adapter, loss.svg and report.html. Every flag points it elsewhere.",
	usage: "[--model DIR] [--task NAME] [flags]",
	setup: func(fs *flag.FlagSet) action {
		modelDir := fs.String("model", "", "base model `dir`ectory (default: the house model)")
		task := fs.String("task", "spam", "task: a name of `eva data list` (prepared on first use)")
		dataDir := fs.String("data-dir", "", "where prepared datasets live (default: "+datasets.CacheDir()+")")
		methods := fs.String("inits", "eva,kaiming,pissa", "initialisations to compare, comma-separated")
		r := fs.Int("r", 4, "LoRA rank")
		alpha := fs.Float64("alpha", 8, "LoRA alpha")
		rho := fs.Float64("rho", 2, "EVA rank redistribution limit")
		targets := fs.String("targets", "all-linear", "target layers")
		steps := fs.Int("steps", 100, "training steps per run")
		batch := fs.Int("batch-size", 8, "sequences per step")
		maxLen := fs.Int("max-length", 128, "tokens per sequence")
		lr := fs.Float64("lr", 2e-3, "peak learning rate (linear decay, 10% warm-up)")
		seed := fs.Uint64("seed", 0, "seed shared by every run")
		maxTrain := fs.Int("train-examples", 2000, "training examples used (0 = all)")
		maxTest := fs.Int("test-examples", 100, "validation and test examples used (0 = all)")
		out := fs.String("out", "out/demo", "output `dir`ectory")
		return func(io streams, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q", args)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d := demo{model: *modelDir, task: *task, dataDir: *dataDir, methods: *methods, r: *r, alpha: *alpha, rho: *rho,
				targets: *targets, steps: *steps, batch: *batch, maxLen: *maxLen, lr: *lr, seed: *seed,
				maxTrain: *maxTrain, maxTest: *maxTest, out: *out}
			return d.run(ctx, io)
		}
	},
}

// demo holds the settings of one eva demo.
type demo struct {
	model, task, dataDir, methods, targets, out string
	r, steps, batch, maxLen, maxTrain, maxTest  int
	alpha, rho, lr                              float64
	seed                                        uint64
}

func (d *demo) run(ctx context.Context, io streams) error {
	if d.r < 1 || d.steps < 1 || d.batch < 1 || d.maxLen < 8 || !(d.lr > 0) {
		return errors.New("--r, --steps and --batch-size must be ≥ 1, --max-length ≥ 8 and --lr > 0")
	}
	var err error
	if d.model == "" {
		if d.model, err = bench.HouseModel(); err != nil {
			return err
		}
	}
	var methods []inits.Method
	for _, name := range strings.Split(d.methods, ",") {
		m, err := inits.Parse(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		methods = append(methods, m)
	}
	if d.dataDir == "" {
		d.dataDir = datasets.CacheDir()
	}
	if err := datasets.Ensure(d.dataDir, d.task, io.log); err != nil {
		return err
	}
	tok, err := models.LoadTokenizer(filepath.Join(d.model, "tokenizer.json"))
	if err != nil {
		return err
	}
	task, err := bench.LoadTask(d.dataDir, d.task, tok, d.maxTrain, d.maxTest, d.maxLen)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.log, "eva demo: model %s, task %s (%d training, %d validation, %d test examples), rank %d, %d steps\n",
		d.model, d.task, len(task.Train), len(task.Valid), len(task.Test), d.r, d.steps)
	started := time.Now()
	var results []*bench.Result
	for _, m := range methods {
		fmt.Fprintf(io.log, "== %s\n", m)
		spec := bench.Spec{Label: m.String(), ModelDir: d.model, Init: m, R: d.r, Alpha: d.alpha, Rho: d.rho, Targets: d.targets,
			Steps: d.steps, BatchSize: d.batch, MaxLen: d.maxLen, Warmup: d.steps / 10, EvalEvery: max(d.steps/5, 1),
			LR: d.lr, Schedule: "linear", Seed: d.seed, CalibBatches: 16, MaxNewTokens: 8,
			Out: filepath.Join(d.out, m.String()), Log: io.log}
		if err := os.RemoveAll(spec.Out); err != nil {
			return err
		}
		res, err := bench.Run(ctx, spec, task)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	// The target is what the first non-EVA run (the usual default) reaches at the end: how much
	// sooner does each run get there?
	target := results[0].LossAt(d.steps)
	for _, r := range results {
		if r.Label != "eva" {
			target = r.MeanLoss(d.steps, 10)
			break
		}
	}
	c := &bench.Comparison{Title: fmt.Sprintf("LoRA r=%d on %s: initialisations compared", d.r, d.task), Steps: d.steps,
		TargetLoss: target, Window: 10, Runs: results, Settings: []string{
			"model: " + d.model, "task: " + d.task,
			fmt.Sprintf("adapters: r %d, alpha %g, targets %s; EVA rho %g", d.r, d.alpha, d.targets, d.rho),
			fmt.Sprintf("budget: %d steps × %d sequences of ≤ %d tokens, lr %g (linear, 10%% warm-up), seed %d", d.steps, d.batch, d.maxLen, d.lr, d.seed),
		}}
	fmt.Fprintln(io.out)
	if err := c.WriteTable(io.out); err != nil {
		return err
	}
	if err := c.WriteReport(d.out); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "\n%.0f s in all. Adapters, loss.svg and report.html are in %s.\n", time.Since(started).Seconds(), d.out)
	fmt.Fprintf(io.out, "Next: eva train --model YOUR_HF_MODEL --data YOUR.jsonl --out DIR --init eva   (eva train --help)\n")
	return nil
}
