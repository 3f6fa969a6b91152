package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/internal/atomicdir"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/models/llama"
	"github.com/eva-lora/eva/train"
)

// tokenizerFiles are copied from --tokenizer into a pretrained model's directory.
var tokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}

var pretrainCommand = command{
	summary: "Pretrain a Llama-architecture model from scratch on JSONL text, with every parameter trained.\n" +
		"The text is tokenised with --tokenizer (a directory with tokenizer.json, e.g. from `eva tokenizer\n" +
		"train`) and packed into --max-length chunks. --out becomes a Hugging Face checkpoint (config.json,\n" +
		"model.safetensors, the tokenizer files) that transformers and every eva command load; it also holds\n" +
		"metrics.jsonl, loss.svg and checkpoints/ (each with a loadable model/). A killed run continues\n" +
		"exactly with --resume.",
	usage: "--tokenizer DIR --data FILE.jsonl --out DIR [model shape] [flags]",
	setup: func(fs *flag.FlagSet) action {
		o := pretrainOptions{}
		o.register(fs, 3e-3, 16, 200)
		fs.StringVar(&o.tokenizer, "tokenizer", "", "`dir`ectory with tokenizer.json (and tokenizer_config.json)")
		fs.IntVar(&o.hidden, "hidden", 384, "hidden size")
		fs.IntVar(&o.intermediate, "intermediate", 1024, "MLP intermediate size")
		fs.IntVar(&o.layers, "layers", 6, "transformer blocks")
		fs.IntVar(&o.heads, "heads", 6, "attention heads")
		fs.IntVar(&o.kvHeads, "kv-heads", 0, "key/value heads (0 = --heads)")
		fs.IntVar(&o.positions, "max-positions", 1024, "max_position_embeddings")
		fs.Float64Var(&o.ropeTheta, "rope-theta", 10000, "RoPE base")
		fs.BoolVar(&o.untied, "untied", false, "a separate output head instead of reusing the token embeddings")
		fs.Float64Var(&o.initStd, "init-std", 0.02, "standard deviation of the initial weights")
		fs.BoolVar(&o.bf16, "bf16", true, "store model.safetensors in bfloat16 (training runs in float32)")
		return func(io streams, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q", args)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPretrain(ctx, io, &o)
		}
	},
}

// pretrainOptions are the flags of eva pretrain.
type pretrainOptions struct {
	loopFlags
	tokenizer                                               string
	hidden, intermediate, layers, heads, kvHeads, positions int
	ropeTheta, initStd                                      float64
	untied, bf16                                            bool
}

// modelConfig is the architecture the flags describe, for a tokenizer of vocab entries.
func (o *pretrainOptions) modelConfig(vocab int) (*config.Config, error) {
	kv := o.kvHeads
	if kv == 0 {
		kv = o.heads
	}
	if o.heads < 1 || o.hidden%o.heads != 0 || kv < 1 || o.heads%kv != 0 {
		return nil, fmt.Errorf("--hidden %d, --heads %d and --kv-heads %d: the hidden size must split into heads, and heads into key/value groups", o.hidden, o.heads, kv)
	}
	if o.layers < 1 || o.intermediate < 1 || o.positions < o.maxLen {
		return nil, fmt.Errorf("--layers and --intermediate must be ≥ 1 and --max-positions ≥ --max-length")
	}
	return &config.Config{ModelType: "llama", VocabSize: vocab, HiddenSize: o.hidden, IntermediateSize: o.intermediate,
		NumLayers: o.layers, NumHeads: o.heads, NumKVHeads: kv, HeadDim: o.hidden / o.heads, MaxPositions: o.positions,
		NormEps: 1e-5, RopeTheta: o.ropeTheta, TieWordEmbeddings: !o.untied, Activation: "silu"}, nil
}

// runPretrain sets up the output directory (config.json and tokenizer files first), creates or
// restores the model, trains it and writes model.safetensors.
func runPretrain(ctx context.Context, io streams, o *pretrainOptions) error {
	if o.tokenizer == "" {
		return errors.New("--tokenizer is required")
	}
	if err := o.validate(); err != nil {
		return err
	}
	tok, err := models.LoadTokenizer(filepath.Join(o.tokenizer, "tokenizer.json"))
	if err != nil {
		return err
	}
	cfg, err := o.modelConfig(tok.VocabSize())
	if err != nil {
		return err
	}
	fp, err := fingerprint(o.flags, filepath.Join(o.tokenizer, "tokenizer.json"), o.data, o.evalData)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(o.out, "config.json")); err == nil && !o.resume {
		return fmt.Errorf("%s already holds a model: pass --resume to continue its pretraining or choose another --out", o.out)
	}
	if err := writeModelDir(o, cfg, tok); err != nil {
		return err
	}
	be := cpu.New()
	m, err := llama.Load(cfg, &model.Loader{Backend: be, Init: model.NormalInit(o.seed, o.initStd), Origin: "initialisation"})
	if err != nil {
		return err
	}
	m.RequestGrads()
	var trainable []train.Param
	for _, p := range m.Params() {
		trainable = append(trainable, train.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	sets, err := data.Load(data.Config{Train: o.data, Valid: o.evalData, Holdout: holdout(o.evalData, o.valFraction),
		Seed: o.seed, Pack: true, MaxLen: o.maxLen,
		Options: data.Options{Encoder: tok, Warn: func(msg string) { fmt.Fprintln(io.log, "note:", msg) }}})
	if err != nil {
		return err
	}
	pad := tok.PadID()
	loader, err := data.NewLoader(sets.Train, data.LoaderConfig{BatchSize: o.batchSize, MaxLen: o.maxLen, Pad: pad, Seed: o.seed})
	if err != nil {
		return fmt.Errorf("%s: %w", o.data, err)
	}
	tcfg, err := o.trainConfig(loader.BatchesPerEpoch())
	if err != nil {
		return err
	}
	var evalBatches []*data.Batch
	if len(sets.Valid) > 0 {
		evalBatches = data.Batches(sets.Valid, o.batchSize, o.maxLen, pad)
	}
	params := 0
	for _, p := range trainable {
		params += p.Value.Len()
	}
	fmt.Fprintf(io.log, "pretraining a %d-layer Llama (hidden %d, %d parameters) on %d chunks of %d tokens for %d steps\n",
		cfg.NumLayers, cfg.HiddenSize, params, len(sets.Train), o.maxLen, tcfg.Steps)
	ck := &models.Checkpoint{Dir: o.out, Config: cfg, Model: m}
	save := models.SaveOptions{BF16: o.bf16}
	tr := &train.Trainer{Backend: be, Model: m, Trainable: trainable, Train: loader, Eval: evalBatches,
		Config: tcfg, Dir: o.out, Fingerprint: fp, Log: io.log,
		Export: func(dir string) error { return models.Save(filepath.Join(dir, "model"), ck, be, save) }}
	var res train.Result
	if o.resume {
		res, err = tr.Resume(ctx)
	} else {
		res, err = tr.Run(ctx)
	}
	if err != nil {
		return err
	}
	save.Metadata = map[string]string{"eva.pretrained_steps": fmt.Sprint(res.Steps)}
	if err := models.Save(o.out, ck, be, save); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "pretrained %d steps (%d tokens, %.1f s): training loss %.4f", res.Steps, res.Tokens, res.Seconds, res.FinalLoss)
	if res.EvalLoss.Tokens > 0 {
		fmt.Fprintf(io.out, ", validation loss %.4f, perplexity %.2f", res.EvalLoss.Mean(), res.EvalLoss.Perplexity())
	}
	fmt.Fprintf(io.out, "\nmodel written to %s\n", o.out)
	return nil
}

// holdout is the validation part of the training file when no validation file is given.
func holdout(evalData string, fraction float64) data.Holdout {
	if evalData != "" {
		return data.Holdout{}
	}
	return data.Holdout{Fraction: fraction}
}

// writeModelDir writes config.json and copies the tokenizer files into --out (atomically, file by
// file), so the directory is a loadable checkpoint as soon as model.safetensors arrives.
func writeModelDir(o *pretrainOptions, cfg *config.Config, tok *models.Tokenizer) error {
	bos, eos := 0, 0
	if id, ok := tok.BOS(); ok {
		bos = int(id)
	}
	if id, ok := tok.EOS(); ok {
		eos = int(id)
	}
	dtype := "float32"
	if o.bf16 {
		dtype = "bfloat16"
	}
	js, err := config.LlamaJSON(cfg, bos, eos, dtype)
	if err != nil {
		return err
	}
	return atomicdir.Write(o.out, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, "config.json"), js, 0o644); err != nil {
			return err
		}
		for _, name := range tokenizerFiles {
			b, err := os.ReadFile(filepath.Join(o.tokenizer, name))
			if os.IsNotExist(err) && name != "tokenizer.json" {
				continue
			} else if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}
