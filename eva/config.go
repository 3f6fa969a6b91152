package eva

import (
	"errors"
	"fmt"
	"math"
)

// SVDMode selects how each incremental PCA step factorises its matrix.
type SVDMode string

// The SVD modes. All of them work in float64.
const (
	// Randomized runs linalg.RandomizedSVD on the stacked matrix with q = 2k test columns, 4 power
	// iterations and Config.Seed, as PEFT's default torch.svd_lowrank does (its random numbers
	// differ from torch's, so results agree with PEFT only to the sketch's accuracy).
	Randomized SVDMode = "randomized"
	// Exact runs the thin SVD of the stacked matrix: PEFT with lowrank=False, step for step.
	Exact SVDMode = "exact"
	// Covariance accumulates the centred scatter matrix Σ(x−μ)(x−μ)ᵀ of every row seen and takes
	// its top eigenvectors at each step: exact PCA over all tokens, which the incremental SVD only
	// approximates. It holds a d×d matrix per hook layer.
	Covariance SVDMode = "covariance"
)

// DefaultMaxBatches is the calibration batch cap used when Config.MaxBatches is 0.
const DefaultMaxBatches = 1000

// Config holds EVA's settings. Field defaults (see DefaultConfig) follow PEFT's LoraConfig and
// EvaConfig.
type Config struct {
	// R is the LoRA rank r of a layer that no RankPattern key matches.
	R int `json:"r"`
	// Alpha is LoRA's alpha for a layer that no AlphaPattern key matches.
	Alpha float64 `json:"alpha"`
	// Rho ≥ 1 caps a layer's rank at RoundToEven(r_l·Rho); 1 disables redistribution.
	Rho float64 `json:"rho"`
	// Tau in [0, 1] is the cosine similarity between consecutive steps that each component must reach.
	Tau float64 `json:"tau"`
	// Whiten divides each layer's components by the square roots of their singular values.
	Whiten bool `json:"whiten"`
	// AdjustScaling rescales a layer's alpha by new_rank/r_l, so that alpha/r stays as configured.
	AdjustScaling bool `json:"adjust_scaling"`
	// SVD selects the factorisation; "" means Randomized.
	SVD SVDMode `json:"svd"`
	// Seed seeds the randomized SVD's test matrix (the same for every step and layer, as in PEFT).
	Seed uint64 `json:"seed"`
	// MaxBatches caps the calibration batches (forward passes); 0 means DefaultMaxBatches.
	MaxBatches int `json:"max_batches"`
	// RankPattern and AlphaPattern override R and Alpha per layer. A key matches a layer name when
	// the name matches the regular expression ^(.*\.)?(key)$, as in PEFT. A key equal to the full
	// name wins; otherwise every matching key must agree (PEFT takes the first in file order, an
	// order a Go map does not keep, so disagreeing matches are an error rather than a guess).
	RankPattern  map[string]int     `json:"rank_pattern,omitempty"`
	AlphaPattern map[string]float64 `json:"alpha_pattern,omitempty"`
}

// DefaultConfig returns PEFT's defaults: r = 8, alpha = 8, rho = 2, tau = 0.99, no whitening,
// adjusted scaling; plus the randomized SVD seeded with 42 and a cap of DefaultMaxBatches batches.
func DefaultConfig() Config {
	return Config{
		R: 8, Alpha: 8, Rho: 2, Tau: 0.99, AdjustScaling: true,
		SVD: Randomized, Seed: 42, MaxBatches: DefaultMaxBatches,
	}
}

// ErrConfig is wrapped by every error about an invalid Config or layer list.
var ErrConfig = errors.New("invalid EVA configuration")

// mode returns the SVD mode with "" resolved to the default.
func (c Config) mode() SVDMode {
	if c.SVD == "" {
		return Randomized
	}
	return c.SVD
}

// maxBatches returns the batch cap with 0 resolved to the default.
func (c Config) maxBatches() int {
	if c.MaxBatches == 0 {
		return DefaultMaxBatches
	}
	return c.MaxBatches
}

// validate checks the settings that do not depend on the layers.
func (c Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.R < 1:
		return bad("r = %d, want r ≥ 1", c.R)
	case math.IsNaN(c.Alpha) || math.IsInf(c.Alpha, 0):
		return bad("alpha = %v, want a finite number", c.Alpha)
	case !(c.Rho >= 1) || math.IsInf(c.Rho, 0):
		return bad("rho = %v, want a finite rho ≥ 1", c.Rho)
	case !(c.Tau >= 0 && c.Tau <= 1):
		return bad("tau = %v, want 0 ≤ tau ≤ 1", c.Tau)
	case c.MaxBatches < 0:
		return bad("max batches = %d, want ≥ 0 (0 = %d)", c.MaxBatches, DefaultMaxBatches)
	}
	switch c.mode() {
	case Randomized, Exact, Covariance:
	default:
		return bad("unknown SVD mode %q (want %q, %q or %q)", c.SVD, Randomized, Exact, Covariance)
	}
	for key, r := range c.RankPattern {
		if r < 1 {
			return bad("rank pattern %q = %d, want ≥ 1", key, r)
		}
	}
	for key, a := range c.AlphaPattern {
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return bad("alpha pattern %q = %v, want a finite number", key, a)
		}
	}
	return nil
}

// maxComponents is PEFT's round(r·rho): Python rounds halves to even, so 4.5 gives 4.
func maxComponents(r int, rho float64) int {
	return int(math.RoundToEven(float64(r) * rho))
}
