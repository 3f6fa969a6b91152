package models

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/internal/fixture"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// seen records which Linear layers a forward pass ran.
type seen map[string]bool

func (s seen) Observe(_ *nn.Context, name string, _ *tensor.Tensor) { s[name] = true }

// TestBlocksStopsBeforeTheHead: a pass with ctx.Blocks runs exactly the first Blocks blocks and
// returns no logits — also when Blocks covers every block, so that calibration never computes the
// final norm and the output head.
func TestBlocksStopsBeforeTheHead(t *testing.T) {
	for _, dir := range []string{"llama", "gpt2"} {
		be := cpu.New()
		ck, err := Open(filepath.Join(fixtures, dir), be)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fixture.Batch(filepath.Join(fixtures, dir, "reference.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		layers := ck.Model.Linears()
		blocks := 0
		for _, l := range layers {
			blocks = max(blocks, l.Block+1)
		}
		for _, n := range []int{1, blocks, blocks + 3} {
			rec := seen{}
			for _, l := range layers {
				l.Capture = rec
			}
			ctx := model.Context(be, b)
			ctx.Blocks = n
			logits, err := ck.Model.Forward(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if logits != nil {
				t.Errorf("%s, Blocks %d: logits returned", dir, n)
			}
			for _, l := range layers {
				if want := l.Block >= 0 && l.Block < n; rec[l.Name] != want {
					t.Errorf("%s, Blocks %d: %s (block %d) ran %v, want %v", dir, n, l.Name, l.Block, rec[l.Name], want)
				}
			}
			if !slices.ContainsFunc(layers, func(l *nn.Linear) bool { return l.Block < 0 }) {
				t.Fatalf("%s: no output head among the Linear layers", dir)
			}
		}
	}
}
