package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/tensor"
)

var evalCommand = command{
	summary: "Print the mean token cross-entropy and perplexity of a model on a JSONL file.\n" +
		"Lines are {\"text\": ...} (tokenised with the model's tokenizer.json, special tokens added) or\n" +
		"{\"input_ids\": [...], \"labels\": [...]} (labels optional, -100 = ignored). Batches keep file\n" +
		"order and are right-padded.",
	usage: "--model DIR --data FILE.jsonl [flags]",
	setup: func(fs *flag.FlagSet) action {
		modelDir := fs.String("model", "", "Hugging Face checkpoint `dir`ectory (config.json, *.safetensors, tokenizer.json)")
		dataPath := fs.String("data", "", "JSONL `file` to evaluate on")
		batchSize := fs.Int("batch-size", 8, "sequences per batch")
		maxLen := fs.Int("max-length", 0, "truncate sequences to this many tokens (0 = no limit)")
		padID := fs.Int("pad-id", -1, "token id used for padding (-1 = the tokenizer's pad, else EOS, else 0)")
		dump := fs.String("dump-logits", "", "write logits [examples, max_len, vocab] and input_ids to this safetensors `file`")
		adapter := fs.String("adapter", "", "evaluate with this PEFT LoRA adapter `dir`ectory attached")
		return func(io streams, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q", args)
			}
			if *modelDir == "" || *dataPath == "" {
				return errors.New("--model and --data are required")
			}
			if *batchSize < 1 || *maxLen < 0 {
				return errors.New("--batch-size must be ≥ 1 and --max-length ≥ 0")
			}
			be := cpu.New()
			ck, err := models.Open(*modelDir, be)
			if err != nil {
				return err
			}
			if *adapter != "" {
				if _, _, err := attachAdapter(be, ck, *adapter); err != nil {
					return err
				}
			}
			r, err := evaluate(io, be, ck, *dataPath, *batchSize, *maxLen, *padID, *dump)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.out, "examples %d  tokens %d  loss %.6f  perplexity %.4f\n", r.examples, r.loss.Tokens, r.loss.Mean(), r.loss.Perplexity())
			return nil
		}
	},
}

type evalResult struct {
	examples int
	loss     model.Loss
}

// evaluate reads the data, batches it and runs the model, optionally dumping logits.
func evaluate(io streams, be tensor.Backend, ck *models.Checkpoint, path string, batchSize, maxLen, padID int, dump string) (evalResult, error) {
	var enc data.Encoder
	if ck.Tokenizer != nil {
		enc = ck.Tokenizer
	}
	exs, err := data.ReadJSONL(path, enc)
	if err != nil {
		return evalResult{}, err
	}
	pad := int32(padID)
	if padID < 0 {
		pad = 0
		if ck.Tokenizer != nil {
			pad = ck.Tokenizer.PadID()
		}
	}
	batches := data.Batches(exs, batchSize, maxLen, pad)
	var d *model.LogitDump
	var onLogits func(*data.Batch, *tensor.Tensor)
	if dump != "" {
		width := 0
		for _, b := range batches {
			width = max(width, b.S)
		}
		d = model.NewLogitDump(width, ck.Config.VocabSize, pad)
		onLogits = func(b *data.Batch, logits *tensor.Tensor) { d.Add(be, b, logits) }
	}
	loss, err := model.Evaluate(be, ck.Model, batches, onLogits)
	if err != nil {
		return evalResult{}, fmt.Errorf("%s: %w", path, err)
	}
	if d != nil {
		if err := d.Write(dump); err != nil {
			return evalResult{}, err
		}
		fmt.Fprintf(io.log, "wrote logits of %d examples to %s\n", len(exs), dump)
	}
	return evalResult{examples: len(exs), loss: loss}, nil
}
