package models

import "github.com/eva-lora/eva/hf/tokenizer"

// Tokenizer is a checkpoint's tokenizer.json, adapted to what training and evaluation need.
type Tokenizer struct {
	*tokenizer.Tokenizer
}

// LoadTokenizer reads a tokenizer.json (and the tokenizer_config.json beside it, if any).
func LoadTokenizer(path string) (*Tokenizer, error) {
	t, err := tokenizer.Load(path)
	if err != nil {
		return nil, err
	}
	return &Tokenizer{t}, nil
}

// Encode implements data.Encoder.
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int32, error) {
	return t.Tokenizer.Encode(text, addSpecial), nil
}

// PadID is the id used to pad batches: the tokenizer's pad token, else its EOS, else 0.
func (t *Tokenizer) PadID() int32 {
	if id, ok := t.Pad(); ok {
		return id
	}
	if id, ok := t.EOS(); ok {
		return id
	}
	return 0
}
