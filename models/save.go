package models

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/internal/atomicdir"
	"github.com/eva-lora/eva/tensor"
)

// companionFiles are copied unchanged from the source checkpoint by Save when present.
var companionFiles = []string{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
	"special_tokens_map.json", "chat_template.jinja"}

// SaveOptions control Save.
type SaveOptions struct {
	// BF16 stores the weights as bfloat16 (half the size) instead of float32.
	BF16 bool
	// Metadata goes into the safetensors header next to {"format": "pt"}.
	Metadata map[string]string
}

// Save writes the checkpoint's current weights to dir as a Hugging Face checkpoint — one
// model.safetensors with the original tensor names and layouts (Conv1D weights transposed back) —
// next to copies of config.json and the tokenizer files of ck.Dir. The directory is written
// atomically.
func Save(dir string, ck *Checkpoint, be tensor.Backend, opt SaveOptions) error {
	return atomicdir.Write(dir, func(tmp string) error {
		params := ck.Model.Params()
		tensors := make([]safetensors.Tensor, 0, len(params))
		for _, p := range params {
			v := be.ToHost(p.Value)
			shape := p.Value.Shape()
			if p.Transposed {
				rows, cols := shape[0], shape[1]
				t := make([]float32, len(v))
				for i := range rows {
					for j := range cols {
						t[j*rows+i] = v[i*cols+j]
					}
				}
				v, shape = t, []int{cols, rows}
			}
			if opt.BF16 {
				tensors = append(tensors, safetensors.BF16(p.Name, shape, v))
			} else {
				tensors = append(tensors, safetensors.F32(p.Name, shape, v))
			}
		}
		meta := map[string]string{"format": "pt"}
		for k, v := range opt.Metadata {
			meta[k] = v
		}
		if err := safetensors.Write(filepath.Join(tmp, "model.safetensors"), tensors, meta); err != nil {
			return err
		}
		for _, name := range companionFiles {
			if err := copyFile(filepath.Join(ck.Dir, name), filepath.Join(tmp, name)); err != nil {
				return err
			}
		}
		return nil
	})
}

// copyFile copies src to dst; a missing src is not an error.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
