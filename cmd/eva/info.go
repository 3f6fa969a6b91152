package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/models"
)

var infoCommand = command{
	summary: "Describe a Hugging Face checkpoint: architecture, sizes, parameters and Linear layers.",
	usage:   "--model DIR",
	setup: func(fs *flag.FlagSet) action {
		modelDir := fs.String("model", "", "Hugging Face checkpoint `dir`ectory")
		linears := fs.Bool("linears", false, "also list every Linear layer (the modules LoRA can target)")
		return func(io streams, args []string) error {
			if *modelDir == "" || len(args) > 0 {
				return errors.New("usage: eva info --model DIR")
			}
			be := cpu.New()
			ck, err := models.Open(*modelDir, be)
			if err != nil {
				return err
			}
			c := ck.Config
			total := 0
			for _, p := range ck.Model.Params() {
				total += p.Value.Len()
			}
			fmt.Fprintf(io.out, "model_type   %s\nlayers       %d\nhidden       %d\nintermediate %d\nheads        %d (key/value %d, head size %d)\nvocab        %d\nparameters   %d\nblas         %s\n",
				c.ModelType, c.NumLayers, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim,
				c.VocabSize, total, be.BLAS())
			if ck.Tokenizer != nil {
				fmt.Fprintf(io.out, "tokenizer    %d tokens\n", ck.Tokenizer.VocabSize())
			}
			if *linears {
				for _, l := range ck.Model.Linears() {
					fmt.Fprintf(io.out, "  %-48s %5d -> %d\n", l.Name, l.In, l.Out)
				}
			}
			return nil
		}
	},
}
