package data

import (
	"errors"
	"fmt"
)

// Config says where training data comes from and how it is prepared.
type Config struct {
	// Train is the training JSONL file.
	Train string
	// Valid is a separate validation JSONL file; "" holds out Holdout from Train instead (or, with
	// a zero Holdout, makes no validation set).
	Valid string
	// Holdout is the part of Train held out for validation when Valid is "".
	Holdout Holdout
	// Seed draws the held-out examples.
	Seed uint64
	// Pack packs "text" lines into chunks of MaxLen tokens (see Pack); otherwise each line is one
	// example, truncated to MaxLen when batched.
	Pack bool
	// MaxLen is the chunk length when packing (required then).
	MaxLen int
	// Options say how lines are read.
	Options
}

// Sets are the prepared training and validation examples (Valid is nil when there is none).
type Sets struct {
	Train, Valid []Example
}

// Load reads, splits and packs the data of cfg. The split is made on the file's lines (documents),
// before packing, so no document is in both sets; both sets are packed alike.
func Load(cfg Config) (*Sets, error) {
	if cfg.Pack && cfg.MaxLen <= 0 {
		return nil, errors.New("data: packing needs a maximum length")
	}
	if cfg.Valid != "" && !cfg.Holdout.IsZero() {
		return nil, errors.New("data: give a validation file or a held-out part of the training file, not both")
	}
	if warn := cfg.Warn; warn != nil {
		seen := map[string]bool{} // the fallback template's note comes once, not once per file
		cfg.Warn = func(msg string) {
			if !seen[msg] {
				seen[msg] = true
				warn(msg)
			}
		}
	}
	train, err := ReadFile(cfg.Train, cfg.Options)
	if err != nil {
		return nil, err
	}
	var valid []Example
	switch {
	case cfg.Valid != "":
		if valid, err = ReadFile(cfg.Valid, cfg.Options); err != nil {
			return nil, err
		}
	case !cfg.Holdout.IsZero():
		if train, valid, err = Split(train, cfg.Holdout, cfg.Seed); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Train, err)
		}
	}
	if cfg.Pack {
		eos := int32(-1)
		if id, ok := eosOf(cfg.Encoder); ok {
			eos = id
		}
		if train, err = Pack(train, cfg.MaxLen, eos); err != nil {
			return nil, err
		}
		if valid != nil {
			if valid, err = Pack(valid, cfg.MaxLen, eos); err != nil {
				return nil, err
			}
		}
	}
	var dropped int
	if train, dropped = dropUnlearnable(train, cfg.MaxLen); dropped > 0 && cfg.Warn != nil {
		cfg.Warn(fmt.Sprintf("%s: %d training examples have no learned token within the first %d tokens and are left out", cfg.Train, dropped, cfg.MaxLen))
	}
	if valid, dropped = dropUnlearnable(valid, cfg.MaxLen); dropped > 0 && cfg.Warn != nil {
		cfg.Warn(fmt.Sprintf("%d validation examples have no learned token within the first %d tokens and are left out", dropped, cfg.MaxLen))
	}
	return &Sets{Train: train, Valid: valid}, nil
}

// dropUnlearnable returns the examples that have a learned target once truncated to maxLen (0 = no
// truncation) and how many it left out: a batch made only of the others would have no loss.
func dropUnlearnable(exs []Example, maxLen int) ([]Example, int) {
	if exs == nil {
		return nil, 0
	}
	kept := make([]Example, 0, len(exs))
	for _, ex := range exs {
		if learnable(ex, maxLen) {
			kept = append(kept, ex)
		}
	}
	return kept, len(exs) - len(kept)
}

// learnable reports whether ex has a learned target once truncated to maxLen (0 = none): position s
// predicts label s, so a label at position 0 is never used.
func learnable(ex Example, maxLen int) bool {
	l := clip(len(ex.IDs), maxLen)
	for s := 1; s < l; s++ {
		if ex.Labels == nil || ex.Labels[s] != IgnoreIndex {
			return true
		}
	}
	return false
}
