// Package models opens a Hugging Face checkpoint directory (config.json, model.safetensors or a
// sharded index, optional tokenizer.json) as an eva model, choosing the architecture from the
// configuration's model_type.
package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models/gpt2"
	"github.com/eva-lora/eva/models/llama"
	"github.com/eva-lora/eva/tensor"
)

// Checkpoint is an opened checkpoint directory.
type Checkpoint struct {
	// Dir is the directory the checkpoint was read from.
	Dir string
	// Config is the normalised config.json.
	Config *config.Config
	// Model holds the weights on the backend.
	Model model.Model
	// Tokenizer is nil when the directory has no tokenizer.json.
	Tokenizer *Tokenizer
}

// Open loads the checkpoint in dir onto be. Weight files are closed before Open returns: the model
// holds its own copy of every tensor (in float32), and no second copy stays in memory.
func Open(dir string, be tensor.Backend) (*Checkpoint, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("open checkpoint %s: not a directory", dir)
	}
	cfg, err := config.Load(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	ld := &model.Loader{Src: setSource{set}, Origin: set.Source(), Backend: be}
	ck := &Checkpoint{Dir: dir, Config: cfg}
	switch cfg.ModelType {
	case "gpt2":
		ck.Model, err = gpt2.Load(cfg, ld)
	default: // config.Load accepts only the types eva implements
		ck.Model, err = llama.Load(cfg, ld)
	}
	if err != nil {
		return nil, err
	}
	tokPath := filepath.Join(dir, "tokenizer.json")
	switch _, statErr := os.Stat(tokPath); {
	case statErr == nil:
		if ck.Tokenizer, err = LoadTokenizer(tokPath); err != nil {
			return nil, err
		}
	case !errors.Is(statErr, fs.ErrNotExist):
		return nil, fmt.Errorf("open checkpoint: %w", statErr)
	}
	return ck, nil
}

// setSource adapts a safetensors set to model.WeightSource.
type setSource struct{ s *safetensors.Set }

func (w setSource) Has(name string) bool { _, ok := w.s.Info(name); return ok }

func (w setSource) Shape(name string) ([]int, error) {
	info, ok := w.s.Info(name)
	if !ok {
		return nil, fmt.Errorf("missing tensor %q", name)
	}
	return info.Shape, nil
}

func (w setSource) Float32(name string) ([]float32, error) { return w.s.Float32(name) }
