package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/hf/tokconfig"
	"github.com/eva-lora/eva/internal/atomicdir"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/peft"
	"github.com/eva-lora/eva/tensor"
	"github.com/eva-lora/eva/train"
)

// initDir holds the adapter as it was at step 0 (PEFT format): the starting point of a resume and,
// for methods that offset the base weight, the reference for writing the final adapter against the
// original base model.
const initDir = "init_adapter"

var trainCommand = command{
	summary: "Fine-tune LoRA adapters on a JSONL dataset and write a PEFT adapter.\n" +
		"Data lines are {\"text\"} (packed to --max-length), {\"prompt\",\"completion\"} (loss on the\n" +
		"completion), {\"messages\"} (the model's chat template; loss on assistant turns) or\n" +
		"{\"input_ids\",\"labels\"}. --init chooses the initialisation: eva (calibrated on --calib-data,\n" +
		"default the training data), kaiming (PEFT's default), gaussian, orthonormal (EVA's row norms\n" +
		"without its data: a control), pissa, pissa_niter_N, milora, olora, corda, corda-kpm, lora-ga,\n" +
		"lora-one, lora-da or ailora. Checkpoints are written atomically every --save-every steps;\n" +
		"--resume continues a killed run exactly where its last checkpoint stopped. --out receives\n" +
		"adapter_config.json + adapter_model.safetensors (for PEFT/vLLM), metrics.jsonl, loss.svg,\n" +
		"init_adapter/ and checkpoints/.",
	usage: "--model DIR --data FILE.jsonl --out DIR [--init eva] [flags]",
	setup: func(fs *flag.FlagSet) action {
		evaDef := eva.DefaultConfig()
		o := trainOptions{}
		o.register(fs, 2e-4, 8, 50)
		fs.StringVar(&o.model, "model", "", "base model: Hugging Face checkpoint `dir`ectory")
		fs.StringVar(&o.adapter, "adapter", "", "continue training this PEFT adapter `dir`ectory instead of initialising one")
		fs.StringVar(&o.init, "init", "eva", "initialisation method (see above)")
		fs.IntVar(&o.r, "r", evaDef.R, "LoRA rank r")
		fs.Float64Var(&o.alpha, "alpha", evaDef.Alpha, "LoRA alpha")
		fs.Float64Var(&o.rho, "rho", evaDef.Rho, "EVA: a layer may receive at most round(r·rho) ranks")
		fs.Float64Var(&o.tau, "tau", evaDef.Tau, "EVA: convergence threshold (cosine between steps)")
		fs.StringVar(&o.calibData, "calib-data", "", "EVA and other data-driven inits: calibration JSONL `file` (default: the training split)")
		fs.IntVar(&o.calibBatches, "calib-batches", 16, "data-driven inits other than EVA: batches of statistics")
		fs.StringVar(&o.evaState, "eva-state", "", "EVA: reuse a saved eva_state.safetensors `file` instead of calibrating")
		fs.StringVar(&o.targets, "targets", lora.AllLinear, "target layers: comma-separated names, all-linear, or re:REGEX")
		fs.Float64Var(&o.loraplus, "loraplus-ratio", 0, "LoRA+: B's learning rate is this × --lr (0 = off)")
		fs.StringVar(&o.rankPattern, "rank-pattern", "", "per-layer ranks, `key=r,...` (PEFT's rank_pattern: a key matches names ending in it, regex allowed)")
		fs.StringVar(&o.alphaPattern, "alpha-pattern", "", "per-layer alphas, `key=alpha,...` (PEFT's alpha_pattern)")
		fs.BoolVar(&o.dora, "dora", false, "DoRA: learn a magnitude per output feature")
		fs.BoolVar(&o.rslora, "rslora", false, "scale by alpha/√r instead of alpha/r")
		fs.Float64Var(&o.dropout, "dropout", 0, "LoRA dropout probability")
		return func(io streams, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q", args)
			}
			o.flags = fs
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runTrain(ctx, io, &o)
		}
	},
}

// trainOptions are the flags of eva train.
type trainOptions struct {
	loopFlags
	model, adapter, init, calibData, evaState, targets, rankPattern, alphaPattern string
	alpha, rho, tau, dropout, loraplus                                            float64
	r, calibBatches                                                               int
	dora, rslora                                                                  bool
}

func (o *trainOptions) validate() error {
	switch {
	case o.model == "":
		return errors.New("--model is required")
	case o.r < 1:
		return fmt.Errorf("--r %d: the rank must be ≥ 1", o.r)
	case !(o.dropout >= 0 && o.dropout < 1):
		return fmt.Errorf("--dropout %v: want a probability in [0, 1)", o.dropout)
	}
	return o.loopFlags.validate()
}

// fingerprint identifies a run: every flag except those that do not change its result (--resume,
// --config, intervals of evaluation and checkpoints) and the contents of the given files. A resume
// with a different fingerprint is refused.
func fingerprint(fs *flag.FlagSet, files ...string) (string, error) {
	h := sha256.New()
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		switch f.Name {
		case "resume", "config", "eval-every", "save-every", "keep-checkpoints":
		default:
			lines = append(lines, f.Name+"="+f.Value.String())
		}
	})
	sort.Strings(lines)
	fmt.Fprintln(h, strings.Join(lines, "\n"))
	for _, path := range files {
		if path == "" {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// runTrain prepares data and adapters, trains, and writes the final adapter.
func runTrain(ctx context.Context, io streams, o *trainOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	fp, err := fingerprint(o.flags, filepath.Join(o.model, "config.json"), o.data, o.evalData, o.calibData, o.evaState)
	if err != nil {
		return err
	}
	be := cpu.New()
	ck, err := models.Open(o.model, be)
	if err != nil {
		return err
	}
	sets, err := loadTrainData(io, ck, o)
	if err != nil {
		return err
	}
	pad := int32(0)
	if ck.Tokenizer != nil {
		pad = ck.Tokenizer.PadID()
	}
	loader, err := data.NewLoader(sets.Train, data.LoaderConfig{BatchSize: o.batchSize, MaxLen: o.maxLen, Pad: pad, Seed: o.seed})
	if err != nil {
		return fmt.Errorf("%s: %w", o.data, err)
	}
	cfg, err := o.trainConfig(loader.BatchesPerEpoch())
	if err != nil {
		return err
	}
	cfg.LoRAPlusRatio = o.loraplus
	if err := cfg.Validate(); err != nil {
		return err
	}
	var evalBatches []*data.Batch
	if len(sets.Valid) > 0 {
		evalBatches = data.Batches(sets.Valid, o.batchSize, o.maxLen, pad)
	}

	resuming := false
	if o.resume {
		if _, err := os.Stat(filepath.Join(o.out, initDir, peft.ConfigFile)); err == nil {
			resuming = true
		} else {
			fmt.Fprintf(io.log, "nothing to resume in %s: starting a new run\n", o.out)
		}
	} else if _, err := os.Stat(filepath.Join(o.out, initDir)); err == nil {
		return fmt.Errorf("%s already holds a run: pass --resume to continue it or choose another --out", o.out)
	}
	var ads *train.Adapters
	switch {
	case resuming:
		ads, err = train.Reattach(be, ck.Model, filepath.Join(o.out, initDir))
	case o.adapter != "":
		ads, err = train.Continue(be, ck.Model, o.adapter)
	default:
		ads, err = initialise(io, be, ck, sets, o, pad)
	}
	if err != nil {
		return err
	}
	if !resuming {
		if err := ads.SaveInitial(filepath.Join(o.out, initDir)); err != nil {
			return err
		}
	}
	tr := &train.Trainer{Backend: be, Model: ck.Model, Adapters: ads.List, Train: loader,
		Eval: evalBatches, Config: cfg, Dir: o.out, Fingerprint: fp, Log: io.log,
		Export: func(dir string) error {
			if err := os.Mkdir(filepath.Join(dir, "adapter"), 0o755); err != nil {
				return err
			}
			return ads.Write(be, filepath.Join(dir, "adapter"))
		}}
	var res train.Result
	if resuming {
		res, err = tr.Resume(ctx)
	} else {
		res, err = tr.Run(ctx)
	}
	if err != nil {
		return err
	}
	err = atomicdir.Write(o.out, func(tmp string) error {
		if ads.EVAState != nil {
			if err := ads.EVAState.Save(filepath.Join(tmp, stateFile)); err != nil {
				return err
			}
			if err := writeReports(tmp, ads.EVAState); err != nil {
				return err
			}
		}
		return ads.Write(be, tmp)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "trained %d steps (%d tokens, %.1f s): final training loss %.4f", res.Steps, res.Tokens, res.Seconds, res.FinalLoss)
	if res.EvalLoss.Tokens > 0 {
		fmt.Fprintf(io.out, ", held-out loss %.4f (perplexity %.2f)", res.EvalLoss.Mean(), res.EvalLoss.Perplexity())
	}
	fmt.Fprintf(io.out, "\nadapter written to %s (load it with PEFT's PeftModel.from_pretrained or `eva eval --adapter`)\n", o.out)
	return nil
}

// initialise computes the adapters of a new run with the method of --init.
func initialise(io streams, be tensor.Backend, ck *models.Checkpoint, sets *data.Sets, o *trainOptions, pad int32) (*train.Adapters, error) {
	m, err := inits.Parse(o.init)
	if err != nil {
		return nil, err
	}
	targets, err := lora.SelectTargets(ck.Model.Linears(), o.targets)
	if err != nil {
		return nil, err
	}
	spec := train.InitSpec{Method: m, Targets: targets, R: o.r, Alpha: o.alpha, RSLoRA: o.rslora, DoRA: o.dora,
		Dropout: o.dropout, Seed: o.seed, EVA: eva.DefaultConfig(), UseLabelMask: true, Population: len(sets.Train),
		BaseModel: o.model, Log: io.log}
	spec.EVA.Rho, spec.EVA.Tau = o.rho, o.tau
	if spec.RankPattern, err = parsePattern("--rank-pattern", o.rankPattern, strconv.Atoi); err != nil {
		return nil, err
	}
	if spec.AlphaPattern, err = parsePattern("--alpha-pattern", o.alphaPattern, func(s string) (float64, error) {
		return strconv.ParseFloat(s, 64)
	}); err != nil {
		return nil, err
	}
	if o.evaState != "" {
		if spec.EVAState, err = eva.Load(o.evaState); err != nil {
			return nil, err
		}
	}
	calibExamples := sets.Train
	if o.calibData != "" {
		var enc data.Encoder
		if ck.Tokenizer != nil {
			enc = ck.Tokenizer
		}
		if calibExamples, err = data.ReadJSONL(o.calibData, enc); err != nil {
			return nil, err
		}
	}
	spec.Calibration = data.Batches(calibExamples, o.batchSize, o.maxLen, pad)
	if !m.EVA() && len(spec.Calibration) > o.calibBatches {
		spec.Calibration = spec.Calibration[:o.calibBatches]
	}
	fmt.Fprintf(io.log, "initialising %d adapters with %s\n", len(targets), m)
	ads, err := train.Initialise(be, ck.Model, spec)
	if err != nil {
		return nil, err
	}
	if ads.EVAState != nil {
		if err := ads.EVAState.WriteTable(io.log); err != nil {
			return nil, err
		}
	}
	return ads, nil
}

// loadTrainData reads, splits and packs the training data with the model's tokenizer and chat
// template.
func loadTrainData(io streams, ck *models.Checkpoint, o *trainOptions) (*data.Sets, error) {
	opts := data.Options{Warn: func(msg string) { fmt.Fprintln(io.log, "note:", msg) }}
	if ck.Tokenizer != nil {
		opts.Encoder = ck.Tokenizer
		tmpl, err := chatTemplate(ck)
		if err != nil {
			return nil, err
		}
		opts.Chat = tmpl
	}
	cfg := data.Config{Train: o.data, Valid: o.evalData, Seed: o.seed, Pack: true, MaxLen: o.maxLen, Options: opts}
	if o.evalData == "" {
		cfg.Holdout = data.Holdout{Fraction: o.valFraction}
	}
	sets, err := data.Load(cfg)
	if err != nil {
		return nil, err
	}
	if len(sets.Train) == 0 {
		return nil, fmt.Errorf("%s: the training split is empty", o.data)
	}
	if o.evalData != "" && len(sets.Valid) == 0 {
		return nil, fmt.Errorf("%s: the evaluation split is empty", o.evalData)
	}
	return sets, nil
}

// chatTemplate returns the model directory's default chat template, or nil (the data package's
// fallback) when it has none.
func chatTemplate(ck *models.Checkpoint) (*data.ChatTemplate, error) {
	tc, err := tokconfig.Read(ck.Dir)
	if err != nil {
		return nil, err
	}
	src, file, ok, err := tc.ChatTemplate("")
	if err != nil || !ok {
		return nil, err
	}
	return data.NewChatTemplate(file, src, tc.TemplateVars())
}

// parsePattern reads "key=value,key=value" into a map.
func parsePattern[V any](flagName, spec string, parse func(string) (V, error)) (map[string]V, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	m := map[string]V{}
	for _, item := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: %q is not key=value", flagName, item)
		}
		val, err := parse(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", flagName, k, err)
		}
		m[strings.TrimSpace(k)] = val
	}
	return m, nil
}
