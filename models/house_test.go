package models

import (
	"path/filepath"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/model"
)

// TestHouseModelMatchesTransformers checks the shipped house model (assets/house-llama) against
// what transformers computed from the same files (testdata/house, scripts/check_house_model.py):
// the tokenizer's ids and the logits of the fixture texts.
func TestHouseModelMatchesTransformers(t *testing.T) {
	be := cpu.New()
	ck, err := Open("../assets/house-llama", be)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.Open("../testdata/house/transformers.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	info, _ := ref.Info("input_ids")
	B, S := info.Shape[0], info.Shape[1]
	ids, _ := ref.Int64("input_ids")
	want, _ := ref.Float32("logits")
	exs, err := data.ReadJSONL(filepath.Join("..", "testdata", "house", "texts.jsonl"), ck.Tokenizer)
	if err != nil || len(exs) != B {
		t.Fatalf("%d texts (%v), reference has %d", len(exs), err, B)
	}
	V := ck.Config.VocabSize
	for i, ex := range exs {
		for j, id := range ex.IDs {
			if int64(id) != ids[i*S+j] {
				t.Fatalf("text %d token %d: eva id %d, transformers %d", i, j, id, ids[i*S+j])
			}
		}
		b := data.Batches([]data.Example{ex}, 1, 0, 0)[0]
		logits, err := ck.Model.Forward(model.Context(be, b), b)
		if err != nil {
			t.Fatal(err)
		}
		got := be.ToHost(logits)
		if e := relErr(got, want[i*S*V:i*S*V+len(got)]); e > 1e-5 {
			t.Errorf("text %d: logits relative error %.2g", i, e)
		}
	}
}
