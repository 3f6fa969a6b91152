package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/eva-lora/eva/hf/tokenizer"
	"github.com/eva-lora/eva/hf/tokenizer/bpetrain"
	"github.com/eva-lora/eva/internal/flagfile"
)

const tokenizerUsage = "train --data FILE.jsonl[,FILE2...] --out DIR [--vocab 8192] [--min-frequency 2] [--max-chars N] [--pad-token]"

var tokenizerCommand = command{
	summary: "Train a byte-level BPE tokenizer on JSONL text and write it as a Hugging Face tokenizer.json.\n" +
		"GPT-2 pre-tokenization, 256 byte tokens, <|endoftext|> as BOS/EOS/pad; the \"text\" of the lines is\n" +
		"counted and merged as Hugging Face's BpeTrainer does, merge for merge.\n" +
		"--out receives tokenizer.json, tokenizer_config.json and special_tokens_map.json, which eva,\n" +
		"tokenizers and transformers' AutoTokenizer load; use it as `eva pretrain --tokenizer DIR`.",
	usage: tokenizerUsage,
	setup: func(fs *flag.FlagSet) action {
		var o tokenizerOptions
		fs.StringVar(&o.data, "data", "", "JSONL `files` with a \"text\" field per line, comma-separated")
		fs.StringVar(&o.out, "out", "", "output `dir`ectory")
		fs.IntVar(&o.vocab, "vocab", 8192, "vocabulary size, special and byte tokens included")
		fs.Int64Var(&o.minFrequency, "min-frequency", 2, "least occurrences of a pair to merge it")
		fs.Int64Var(&o.maxChars, "max-chars", 0, "read at most this many characters (0: all)")
		fs.BoolVar(&o.padToken, "pad-token", false, "add <|pad|> (id 1) as the padding token instead of padding with <|endoftext|>")
		fs.IntVar(&o.maxLength, "model-max-length", 1024, "tokenizer_config.json's model_max_length")
		fs.IntVar(&o.workers, "workers", 0, "goroutines that count words (0: all cores)")
		return func(io streams, args []string) error {
			// Flags may follow the subcommand: `eva tokenizer train --data ...`.
			if len(args) == 0 || args[0] != "train" {
				return errors.New("usage: eva tokenizer " + tokenizerUsage)
			}
			if err := flagfile.Load(fs, args[1:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return nil
				}
				return err
			}
			if fs.NArg() > 0 {
				return fmt.Errorf("unexpected arguments %q", fs.Args())
			}
			return runTokenizerTrain(io, &o)
		}
	},
}

// tokenizerOptions are the flags of eva tokenizer train.
type tokenizerOptions struct {
	data, out    string
	vocab        int
	minFrequency int64
	maxChars     int64
	padToken     bool
	maxLength    int
	workers      int
}

func runTokenizerTrain(io streams, o *tokenizerOptions) error {
	if o.data == "" || o.out == "" {
		return errors.New("--data and --out are required")
	}
	var paths []string
	for _, p := range strings.Split(o.data, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	start := time.Now()
	words, err := bpetrain.CountJSONL(paths, bpetrain.ReadOptions{MaxChars: o.maxChars, Workers: o.workers})
	if err != nil {
		return err
	}
	var occurrences int64
	for _, c := range words.Counts {
		occurrences += c
	}
	fmt.Fprintf(io.log, "read %d texts: %d characters, %d words (%d distinct) in %.1f s\n",
		words.Texts, words.Chars, occurrences, len(words.Counts), time.Since(start).Seconds())

	specials := []string{bpetrain.EndOfText}
	fopt := bpetrain.FileOptions{ModelMaxLength: o.maxLength}
	if o.padToken {
		specials = append(specials, bpetrain.PadToken)
		fopt.Pad = bpetrain.PadToken
	}
	trainStart := time.Now()
	m, err := bpetrain.Train(words, bpetrain.Options{VocabSize: o.vocab, MinFrequency: o.minFrequency, SpecialTokens: specials})
	if err != nil {
		return err
	}
	trainTime := time.Since(trainStart)
	if err := m.WriteDir(o.out, fopt); err != nil {
		return err
	}
	// Load what was written with eva's own tokenizer, so a file that would not load never passes.
	tok, err := tokenizer.Load(filepath.Join(o.out, "tokenizer.json"))
	if err != nil {
		return fmt.Errorf("the written tokenizer does not load: %w", err)
	}
	if tok.VocabSize() != len(m.Vocab) {
		return fmt.Errorf("the written tokenizer has %d tokens, trained %d", tok.VocabSize(), len(m.Vocab))
	}
	tokens := m.CountTokens(words, o.workers)
	fmt.Fprintf(io.out, "vocabulary %d tokens (%d merges", len(m.Vocab), len(m.Merges))
	switch {
	case len(m.Vocab) == o.vocab:
	case o.minFrequency > 1:
		fmt.Fprintf(io.out, "; stopped early: no pair occurs %d times or more", o.minFrequency)
	default:
		fmt.Fprint(io.out, "; stopped early: every word is one token")
	}
	fmt.Fprintf(io.out, ")\ntime %.1f s (merges %.1f s)\n", time.Since(start).Seconds(), trainTime.Seconds())
	if tokens > 0 {
		fmt.Fprintf(io.out, "compression %.3f characters per token (%d characters, %d tokens of training text)\n",
			float64(words.Chars)/float64(tokens), words.Chars, tokens)
	}
	fmt.Fprintf(io.out, "tokenizer written to %s\n", o.out)
	return nil
}
