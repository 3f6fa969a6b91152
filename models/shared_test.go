package models

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// inputRecorder keeps a copy of every Linear layer's input.
type inputRecorder map[string][]float32

func (r inputRecorder) Observe(ctx *nn.Context, name string, x *tensor.Tensor) {
	r[name] = ctx.Backend.ToHost(x)
}

// TestSharedInputsAreExact checks the structural grouping against the data: layers the model
// groups see bit-identical inputs, and no two layers outside a group do.
func TestSharedInputsAreExact(t *testing.T) {
	for _, dir := range []string{"llama", "qwen2", "gpt2", "mistral"} {
		t.Run(dir, func(t *testing.T) {
			be := cpu.New()
			ck, err := Open(filepath.Join(fixtures, dir), be)
			if err != nil {
				t.Fatal(err)
			}
			rec := inputRecorder{}
			for _, l := range ck.Model.Linears() {
				l.Capture = rec
			}
			ref := loadReference(t, dir)
			if _, err := ck.Model.Forward(model.Context(be, ref.batch), ref.batch); err != nil {
				t.Fatal(err)
			}
			shared := ck.Model.SharedInputs()
			first := func(name string) string {
				if f, ok := shared[name]; ok {
					return f
				}
				return name
			}
			ls := ck.Model.Linears()
			if len(rec) != len(ls) {
				t.Fatalf("%d of %d layers captured", len(rec), len(ls))
			}
			for i, a := range ls {
				for _, b := range ls[i+1:] {
					same := slices.Equal(rec[a.Name], rec[b.Name])
					if grouped := first(a.Name) == first(b.Name); same != grouped {
						t.Errorf("%s and %s: identical inputs %v, grouped %v", a.Name, b.Name, same, grouped)
					}
				}
			}
		})
	}
}
