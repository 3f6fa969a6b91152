package inits

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eva-lora/eva/linalg"
)

// LoRAGAOptions are the fields of PEFT's LoraGAConfig plus the randomized SVD's settings.
type LoRAGAOptions struct {
	// Direction picks which of the 2r leading singular triplets of G go where: "ArB2r" (A from the
	// first r right vectors, B from the next r left vectors; PEFT's default), "A2rBr", "ArBr"
	// (alternating) or "random" (r of the 2r, drawn with Seed).
	Direction string
	// Scale is "stable" (B ×= out^{1/4}/√Gamma; PEFT's default), "weight_svd" (B ×= σ₁(W)/σ_B,₁),
	// "gd_scale" (A and B ÷= s) or "unit" (no scaling).
	Scale string
	// Gamma is stable_gamma (PEFT default 16).
	Gamma float64
	// NIter is the number of power iterations of the randomized SVD (PEFT: torch.svd_lowrank with
	// q = min(4r, min(out, in)) and niter = 4); 0 runs none.
	NIter int
	// Seed seeds the randomized SVD's test matrix and the "random" direction.
	Seed uint64
}

// DefaultLoRAGAOptions returns PEFT's defaults: direction "ArB2r", scale "stable", γ = 16, 4 power
// iterations, seed 0.
func DefaultLoRAGAOptions() LoRAGAOptions {
	return LoRAGAOptions{Direction: "ArB2r", Scale: "stable", Gamma: 16, NIter: 4}
}

// LoRAGA returns PEFT's "lora_ga" initialisation (Wang, Yu and Li, NeurIPS 2024; PEFT PR #2926,
// layer.py lora_ga_init) from the weight gradient G = Stats.Grad ([out, in]):
//
//	G ≈ U·diag(σ)·Vᵀ, the 2r leading triplets (randomized SVD, q = min(4r, min(out, in)))
//	ArB2r: A = V_{1..r}ᵀ, B = U_{r+1..2r}·diag(σ_{r+1..2r})
//	stable: B ×= out^{1/4}/√γ
//
// and Offset is set. The first gradient step on (A, B) then moves s·B·A along
// −η·s²·(G·AᵀA + B·Bᵀ·G), which lies in G's leading 2r singular subspaces: for ArB2r, G·AᵀA is G's
// best rank-r approximation. Only W's shape is read, except by the "weight_svd" scale.
//
// PEFT's preprocess_loraga sums the gradients of all batches its train_step runs (its count is one
// per call), whereas Stats.Grad is their mean; with the "stable" and "weight_svd" scales B is
// proportional to the gradient's size, so PEFT's B is N times ours for N batches. Multiply Grad by
// N to reproduce it. We compute in float64 (PEFT: float32).
func LoRAGA(w, grad *linalg.Dense, r int, s float64, opts LoRAGAOptions) (Result, error) {
	return loraGA(linalg.Solver{}, w, grad, r, s, opts)
}

// loraGA is LoRAGA computed on sol.
func loraGA(sol linalg.Solver, w, grad *linalg.Dense, r int, s float64, opts LoRAGAOptions) (Result, error) {
	const method = "lora-ga"
	if err := checkMatrix(method, "weight", w, -1, -1); err != nil {
		return Result{}, err
	}
	out, in := w.Rows, w.Cols
	if err := checkMatrix(method, "gradient", grad, out, in); err != nil {
		return Result{}, err
	}
	if 2*r > min(out, in) || r < 1 {
		return Result{}, fmt.Errorf("inits: %s: rank r = %d, want 1 ≤ r and 2r ≤ %d (it uses 2r singular triplets): %w", method, r, min(out, in), linalg.ErrArgument)
	}
	if err := checkScale(method, s); err != nil {
		return Result{}, err
	}
	if opts.NIter < 0 {
		return Result{}, fmt.Errorf("inits: %s: NIter = %d, want ≥ 0: %w", method, opts.NIter, linalg.ErrArgument)
	}
	u, sv, vt, err := sol.RandomizedSVD(grad, 2*r, linalg.RandomizedOptions{
		Columns: min(4*r, out, in), PowerIters: powerIters(opts.NIter), Seed: opts.Seed,
	})
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: SVD of the gradient: %w", method, err)
	}
	var idxA, idxB []int
	switch opts.Direction {
	case "ArBr":
		for k := range r {
			idxA, idxB = append(idxA, 2*k+1), append(idxB, 2*k)
		}
	case "A2rBr":
		idxA, idxB = span(r, 2*r), span(0, r)
	case "ArB2r":
		idxA, idxB = span(0, r), span(r, 2*r)
	case "random":
		rng := rand.New(rand.NewPCG(opts.Seed, 0x6c6f72612d6761)) // "lora-ga"
		idxA = rng.Perm(2 * r)[:r]
		idxB = idxA
	default:
		return Result{}, fmt.Errorf("inits: %s: unknown direction %q (want ArB2r, A2rBr, ArBr or random): %w", method, opts.Direction, linalg.ErrArgument)
	}
	sB := make([]float64, r)
	for k, i := range idxB {
		sB[k] = sv[i]
	}
	a, b := pickRows(vt, idxA, nil), pickCols(u, idxB, sB)
	switch opts.Scale {
	case "stable":
		if !(opts.Gamma > 0) || math.IsInf(opts.Gamma, 0) {
			return Result{}, fmt.Errorf("inits: %s: Gamma = %v, want a finite γ > 0: %w", method, opts.Gamma, linalg.ErrArgument)
		}
		scaleAll(b, math.Pow(float64(out), 0.25)/math.Sqrt(opts.Gamma))
	case "weight_svd":
		_, ws, _, err := sol.RandomizedSVD(w, r, linalg.RandomizedOptions{Columns: r, PowerIters: 4, Seed: opts.Seed})
		if err != nil {
			return Result{}, fmt.Errorf("inits: %s: SVD of the weight: %w", method, err)
		}
		if sB[0] > 0 {
			scaleAll(b, ws[0]/sB[0])
		}
	case "gd_scale":
		scaleAll(a, 1/s)
		scaleAll(b, 1/s)
	case "unit":
	default:
		return Result{}, fmt.Errorf("inits: %s: unknown scale %q (want stable, weight_svd, gd_scale or unit): %w", method, opts.Scale, linalg.ErrArgument)
	}
	return Result{A: a, B: b, Offset: true}, nil
}

// powerIters converts a count of power iterations (0 = none) to linalg's convention (0 = default).
func powerIters(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// DefaultLoRAOneGamma is LoRA-One's γ in its README's recipe (++init.stable_gamma=64).
const DefaultLoRAOneGamma = 64

// LoRAOne returns the LoRA-One initialisation (Zhang, Liu and Chen, ICML 2025; code in
// YuanheZ/LoRA-One and zqy0126/LoRA-DA run_exp.py, direction "LoRA-One", scale "stable") from the
// weight gradient G = Stats.Grad ([out, in]):
//
//	−G = U·diag(σ)·Vᵀ
//	B = U_r·diag(√σ_r)/√(σ₁·γ), A = diag(√σ_r)·V_rᵀ/√(σ₁·γ)
//
// so B·A = −G_r/(γ·σ₁), with G_r the best rank-r approximation of G: the adapter starts one
// normalised spectral gradient step away from W, s·B·A = −(s/γ)·G_r/σ₁. Offset is false (the
// reference code leaves the base weight alone). The reference takes a randomized SVD of −G
// (q = 512, niter = 16); we take the exact SVD.
func LoRAOne(grad *linalg.Dense, r int, gamma float64) (Result, error) {
	return loraOne(linalg.Solver{}, grad, r, gamma)
}

// loraOne is LoRAOne computed on sol.
func loraOne(sol linalg.Solver, grad *linalg.Dense, r int, gamma float64) (Result, error) {
	const method = "lora-one"
	if err := checkMatrix(method, "gradient", grad, -1, -1); err != nil {
		return Result{}, err
	}
	if err := checkRank(method, r, min(grad.Rows, grad.Cols)); err != nil {
		return Result{}, err
	}
	if !(gamma > 0) || math.IsInf(gamma, 0) {
		return Result{}, fmt.Errorf("inits: %s: γ = %v, want a finite γ > 0: %w", method, gamma, linalg.ErrArgument)
	}
	u, sv, vt, err := sol.SVD(grad)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: SVD of the gradient: %w", method, err)
	}
	if !(sv[0] > 0) {
		return Result{}, fmt.Errorf("inits: %s: the gradient is zero, nothing to align with: %w", method, linalg.ErrArgument)
	}
	norm := math.Sqrt(sv[0] * gamma)
	rootA, rootB := make([]float64, r), make([]float64, r)
	for k := range r {
		rootA[k] = math.Sqrt(sv[k]) / norm
		rootB[k] = -rootA[k] // SVD(−G) = (−U)·diag(σ)·Vᵀ
	}
	idx := span(0, r)
	return Result{A: pickRows(vt, idx, rootA), B: pickCols(u, idx, rootB)}, nil
}
