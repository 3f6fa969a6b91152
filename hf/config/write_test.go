package config

import "testing"

// TestLlamaJSONRoundTrip: what LlamaJSON writes parses back to the same configuration.
func TestLlamaJSONRoundTrip(t *testing.T) {
	c := &Config{ModelType: "llama", VocabSize: 8192, HiddenSize: 384, IntermediateSize: 1024, NumLayers: 6,
		NumHeads: 6, NumKVHeads: 2, HeadDim: 64, MaxPositions: 512, NormEps: 1e-5, RopeTheta: 10000,
		TieWordEmbeddings: true, Activation: "silu"}
	b, err := LlamaJSON(c, 0, 0, "bfloat16")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b, "test")
	if err != nil {
		t.Fatal(err)
	}
	if got.VocabSize != 8192 || got.HiddenSize != 384 || got.IntermediateSize != 1024 || got.NumLayers != 6 ||
		got.NumHeads != 6 || got.NumKVHeads != 2 || got.HeadDim != 64 || got.MaxPositions != 512 || got.NormEps != 1e-5 ||
		got.RopeTheta != 10000 || !got.TieWordEmbeddings || got.TorchDType != "bfloat16" || got.ModelType != "llama" {
		t.Errorf("round trip gave %+v", got)
	}
	c.QKVBias = true
	if _, err := LlamaJSON(c, 0, 0, "float32"); err == nil {
		t.Error("a configuration with biases was written")
	}
}
