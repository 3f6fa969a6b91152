package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/calib"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/internal/atomicdir"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/peft"
)

// Files calibrate writes next to the PEFT adapter.
const (
	stateFile     = "eva_state.safetensors"
	reportTable   = "eva_report.txt"
	reportJSONL   = "eva_report.jsonl"
	reportSVGFile = "eva_report.svg"
)

var calibrateCommand = command{
	summary: "Compute EVA's data-driven LoRA initialisation and write it as a PEFT adapter.\n" +
		"Runs the model over the calibration data (same JSONL formats as eval), computes each target\n" +
		"layer's input principal components incrementally until they are stable, redistributes the rank\n" +
		"budget by explained variance, and writes --out: adapter_config.json + adapter_model.safetensors\n" +
		"(loadable by PEFT's PeftModel.from_pretrained), eva_state.safetensors (reusable EVA state) and a\n" +
		"per-layer report (eva_report.txt, .jsonl, .svg). Nothing is written unless calibration succeeds.",
	usage: "--model DIR --data FILE.jsonl --out DIR [flags]",
	setup: func(fs *flag.FlagSet) action {
		def := eva.DefaultConfig()
		modelDir := fs.String("model", "", "Hugging Face checkpoint `dir`ectory")
		dataPath := fs.String("data", "", "calibration data, a JSONL `file`")
		out := fs.String("out", "", "output `dir`ectory for the adapter, the EVA state and the report")
		r := fs.Int("r", def.R, "LoRA rank r per layer (the budget is r × layers)")
		alpha := fs.Float64("alpha", def.Alpha, "LoRA alpha")
		rho := fs.Float64("rho", def.Rho, "a layer may receive at most round(r·rho) ranks; 1 = no redistribution")
		tau := fs.Float64("tau", def.Tau, "cosine similarity between steps at which a component counts as converged, in [0, 1]")
		targets := fs.String("targets", lora.AllLinear, "target layers: comma-separated names (q_proj,v_proj), all-linear, or re:REGEX")
		batchSize := fs.Int("batch-size", 4, "sequences per calibration batch")
		maxLen := fs.Int("max-length", 0, "truncate sequences to this many tokens (0 = no limit)")
		svd := fs.String("svd", string(def.SVD), "incremental SVD: randomized, exact, or covariance (exact PCA over every token)")
		whiten := fs.Bool("whiten", false, "divide each component by the square root of its singular value")
		noLabelMask := fs.Bool("no-label-mask", false, "count every non-padding token, also those whose label is -100")
		noAdjust := fs.Bool("no-adjust-scaling", false, "keep alpha per layer instead of rescaling it with the rank")
		seed := fs.Uint64("seed", def.Seed, "seed of the randomized SVD and of --shuffle")
		maxBatches := fs.Int("max-batches", def.MaxBatches, "give up after this many calibration batches")
		shuffle := fs.Bool("shuffle", false, "reshuffle the batches on every pass over the data (default: file order)")
		fromState := fs.String("state", "", "reuse a saved EVA state `file` (eva_state.safetensors) instead of calibrating; --data is then not needed")
		return func(io streams, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q", args)
			}
			if *modelDir == "" || *out == "" || (*dataPath == "" && *fromState == "") {
				return errors.New("--model, --out and --data (or --state) are required")
			}
			if *batchSize < 1 || *maxLen < 0 || *maxBatches < 1 {
				return errors.New("--batch-size and --max-batches must be ≥ 1 and --max-length ≥ 0")
			}
			cfg := def
			cfg.R, cfg.Alpha, cfg.Rho, cfg.Tau, cfg.Whiten = *r, *alpha, *rho, *tau, *whiten
			cfg.AdjustScaling, cfg.SVD, cfg.Seed, cfg.MaxBatches = !*noAdjust, eva.SVDMode(*svd), *seed, *maxBatches
			be := cpu.New()
			ck, err := models.Open(*modelDir, be)
			if err != nil {
				return err
			}
			var st *eva.State
			if *fromState != "" {
				if st, err = eva.Load(*fromState); err != nil {
					return err
				}
			} else {
				names, err := lora.SelectTargets(ck.Model.Linears(), *targets)
				if err != nil {
					return err
				}
				var enc data.Encoder
				pad := int32(0)
				if ck.Tokenizer != nil {
					enc, pad = ck.Tokenizer, ck.Tokenizer.PadID()
				}
				exs, err := data.ReadJSONL(*dataPath, enc)
				if err != nil {
					return err
				}
				st, err = calib.Run(be, ck.Model, data.Batches(exs, *batchSize, *maxLen, pad), names, cfg,
					calib.Options{UseLabelMask: !*noLabelMask, Shuffle: *shuffle, Seed: *seed, Progress: io.log})
				if err != nil {
					return err
				}
			}
			pc, layers, err := peft.FromEVA(st, ck.Model.Linears(), *modelDir)
			if err != nil {
				return err
			}
			err = atomicdir.Write(*out, func(tmp string) error {
				if err := peft.WriteFiles(tmp, pc, layers); err != nil {
					return err
				}
				if err := st.Save(filepath.Join(tmp, stateFile)); err != nil {
					return err
				}
				return writeReports(tmp, st)
			})
			if err != nil {
				return err
			}
			if err := st.WriteTable(io.out); err != nil {
				return err
			}
			fmt.Fprintf(io.out, "\n%d calibration batches; adapter, EVA state and report written to %s\n", st.Batches, *out)
			return nil
		}
	},
}

// writeReports writes the per-layer report as a table, JSONL and an SVG chart into dir.
func writeReports(dir string, st *eva.State) error {
	for name, write := range map[string]func(f *os.File) error{
		reportTable:   func(f *os.File) error { return st.WriteTable(f) },
		reportJSONL:   func(f *os.File) error { return st.WriteJSONL(f) },
		reportSVGFile: func(f *os.File) error { return st.WriteSVG(f) },
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
