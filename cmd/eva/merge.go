package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/peft"
	"github.com/eva-lora/eva/tensor"
)

var mergeCommand = command{
	summary: "Fold a LoRA adapter (PEFT directory; plain, rsLoRA or DoRA) into its base model.\n" +
		"Writes --out as a Hugging Face checkpoint: model.safetensors (float32, the base model's tensor\n" +
		"names) with config.json and the tokenizer files copied from --model. It computes what PEFT's\n" +
		"merge_and_unload computes. Nothing is written unless the merge succeeds.",
	usage: "--model DIR --adapter DIR --out DIR",
	setup: func(fs *flag.FlagSet) action {
		modelDir := fs.String("model", "", "base model: Hugging Face checkpoint `dir`ectory")
		adapterDir := fs.String("adapter", "", "PEFT adapter `dir`ectory (adapter_config.json, adapter_model.safetensors)")
		out := fs.String("out", "", "output `dir`ectory for the merged checkpoint")
		return func(io streams, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q", args)
			}
			if *modelDir == "" || *adapterDir == "" || *out == "" {
				return errors.New("--model, --adapter and --out are required")
			}
			be := cpu.New()
			ck, err := models.Open(*modelDir, be)
			if err != nil {
				return err
			}
			ads, _, err := attachAdapter(be, ck, *adapterDir)
			if err != nil {
				return err
			}
			for _, a := range ads {
				a.Merge(be)
				a.Layer().Adapter = nil
			}
			if err := models.Save(*out, ck, be, models.SaveOptions{Metadata: map[string]string{"eva.merged_adapter": *adapterDir}}); err != nil {
				return err
			}
			fmt.Fprintf(io.out, "merged %d adapted layers of %s into %s\n", len(ads), *adapterDir, *out)
			return nil
		}
	},
}

// attachAdapter loads a PEFT adapter directory and attaches it to the checkpoint's model.
func attachAdapter(be tensor.Backend, ck *models.Checkpoint, dir string) ([]*lora.Adapter, peft.Config, error) {
	c, layers, err := peft.Load(dir)
	if err != nil {
		return nil, peft.Config{}, err
	}
	ads, err := peft.Attach(be, ck.Model.Linears(), c, layers)
	if err != nil {
		return nil, peft.Config{}, fmt.Errorf("adapter %s on model %s: %w", dir, ck.Dir, err)
	}
	return ads, c, nil
}
