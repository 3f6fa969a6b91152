package eva

import (
	"fmt"
	"math"
	"slices"
)

// State is the outcome of a calibration: what lora needs to initialise EVA adapters, plus the
// statistics behind it. It owns all its slices.
type State struct {
	// Config is the configuration the calibration ran with.
	Config Config
	// Layers holds every target layer in module order, rank-0 layers included.
	Layers []LayerState
	// Batches is the number of calibration batches (forward passes) used.
	Batches int
	// LabelMask is true when the calibration counted only tokens that carry a label (PEFT's
	// use_label_mask); false when it counted every non-padding token.
	LabelMask bool
}

// LayerState is one target layer's result.
type LayerState struct {
	// Name is the module path.
	Name string
	// In is the input width.
	In int
	// R is the rank the layer was configured with (r_l: RankPattern or Config.R) and MaxRank the
	// most it could receive (RoundToEven(r_l·rho), raised to its group's maximum).
	R, MaxRank int
	// Rank is the rank EVA assigned; 0 means the layer gets no adapter.
	Rank int
	// A is LoRA's Rank×In initial A, row-major: the leading principal directions of the layer's
	// input, orthonormal rows whose largest-magnitude entry is positive; with Config.Whiten each row
	// is divided by the square root of its singular value (once per layer).
	A []float64
	// EVR holds the explained variance ratio of each of the MaxRank components computed (σ² over
	// the total centred variance of the input), non-increasing; SingularValues their singular values.
	EVR            []float64
	SingularValues []float64
	// Steps is the number of PCA steps of the layer's group, and Samples the rows they used.
	Steps   int
	Samples int64
	// Alpha is the layer's LoRA alpha: alpha_l (AlphaPattern or Config.Alpha), times Rank/R when
	// Config.AdjustScaling is set and the rank changed, so that Alpha/Rank = alpha_l/R.
	Alpha float64
	// Group is the name of the first layer of the layer's shared-input group, or "" if the layer
	// shares its input with no other target.
	Group string
}

// Result returns the calibration's state. It is an error (wrapping ErrNotConverged) to ask before
// Done.
func (run *Run) Result() (*State, error) {
	if !run.Done() {
		return nil, fmt.Errorf("eva: result requested before convergence: %w", run.notConvergedError())
	}
	grouped := make(map[int]bool)
	for i, l := range run.layers {
		if l.hook.layer != i {
			grouped[l.hook.layer] = true
		}
	}
	s := &State{Config: run.cfg, Batches: run.batches}
	for i, l := range run.layers {
		est, rank := l.hook.est, run.ranks[i]
		ls := LayerState{
			Name: l.Name, In: l.In, R: l.r, MaxRank: l.maxRank, Rank: rank,
			A:              slices.Clone(est.components.Data[:rank*l.In]),
			EVR:            slices.Clone(est.evr),
			SingularValues: slices.Clone(est.singular),
			Steps:          l.hook.steps,
			Samples:        est.seen,
			Alpha:          l.alpha,
		}
		if run.cfg.Whiten {
			whiten(ls.A, est.singular[:rank], l.In)
		}
		if run.cfg.AdjustScaling && rank != l.r {
			ls.Alpha = l.alpha * float64(rank) / float64(l.r)
		}
		if grouped[l.hook.layer] {
			ls.Group = run.layers[l.hook.layer].Name
		}
		s.Layers = append(s.Layers, ls)
	}
	return s, nil
}

// whiten divides row c of the rank×d matrix a by √σ_c, as PEFT's whitening does (but once per
// layer: PEFT's in-place division of a shared view repeats it for every member of a group). A row
// whose singular value is 0 carries no variance and is left as it is.
func whiten(a, singular []float64, d int) {
	for c, s := range singular {
		if s <= 0 {
			continue
		}
		root := math.Sqrt(s)
		row := a[c*d : (c+1)*d]
		for j := range row {
			row[j] /= root
		}
	}
}
