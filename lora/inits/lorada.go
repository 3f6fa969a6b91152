package inits

import (
	"fmt"
	"math"

	"github.com/eva-lora/eva/linalg"
)

// LoRADAOptions are LoRA-DA's hyperparameters (zqy0126/LoRA-DA, conf/lora_da.yaml).
type LoRADAOptions struct {
	// Beta is the variance-term strength β (da_variance_beta; 0.03). β = 0 drops the term.
	Beta float64
	// BiasAlpha is the bias-term strength (da_bias_alpha; 1).
	BiasAlpha float64
	// Damping λ is added to Z's diagonal and to every D_y entry (fisher_damping; 1e-6).
	Damping float64
	// Gamma divides A and B by √γ (stable_gamma; 1024).
	Gamma float64
	// Population is N, the number of training examples (the reference passes len(train_set)). It
	// sets the variance term's weight and must be ≥ 1 when Beta ≠ 0.
	Population int
}

// DefaultLoRADAOptions returns the reference configuration: β = 0.03, bias strength 1, λ = 1e-6,
// γ = 1024. Population has no default: set it to the training-set size.
func DefaultLoRADAOptions() LoRADAOptions {
	return LoRADAOptions{Beta: 0.03, BiasAlpha: 1, Damping: 1e-6, Gamma: 1024}
}

// LoRADA returns the LoRA-DA initialisation (Zhang, Chu et al., ICML 2026; zqy0126/LoRA-DA,
// lora_da.py, output_fisher_mode "diagonal") from the weight gradient G = Stats.Grad ([out, in]), the
// input second moment C = Stats.Cov ([in, in]) and the output-gradient squares Stats.OutGradSq
// ([out]):
//
//	Z = C + λ·I, D_y = diag(OutGradSq) + λ·I                  (K-FAC factors)
//	ΔŴ = −D_y⁻¹·G·Z⁻¹ / σ_max(D_y⁻¹·G·Z⁻¹)                    (normalised natural-gradient target)
//	Ω = −α·ΔŴᵀ·ΔŴ + β·c·Z⁻¹, c = tr(D_y⁻¹)/(N·σ_max²)         (bias term plus variance term, [in, in])
//	A₀ = the r eigenvectors of Ω with the smallest eigenvalues, as rows
//	A = A₀/√γ, B = ΔŴ·A₀ᵀ/√γ, so B·A = ΔŴ·AᵀA = ΔŴ·P_A/γ
//
// with P_A the projector onto A's row space. Offset is false (the reference leaves W alone). With
// β = 0, Z ∝ I and D_y ∝ I, A's rows are G's r leading right singular vectors and B·A equals
// LoRA-One's −G_r/(γ·σ₁).
//
// Departures from the reference: Ω's eigenvectors come from an exact symmetric eigendecomposition
// (the reference runs 10 LOBPCG iterations, falling back to the same dense eigh) and are ordered by
// ascending eigenvalue with the reference's sign convention (each column's largest-magnitude entry
// positive); σ_max comes from a randomized SVD with 8 columns and 16 power iterations (reference:
// one column, 16 iterations); Z⁻¹ comes from an eigendecomposition instead of a Cholesky factor.
func LoRADA(grad, cov *linalg.Dense, outGradSq []float64, r int, opts LoRADAOptions) (Result, error) {
	return loraDA(linalg.Solver{}, grad, cov, outGradSq, r, opts)
}

// loraDA is LoRADA computed on sol.
func loraDA(sol linalg.Solver, grad, cov *linalg.Dense, outGradSq []float64, r int, opts LoRADAOptions) (Result, error) {
	const method = "lora-da"
	if err := checkMatrix(method, "gradient", grad, -1, -1); err != nil {
		return Result{}, err
	}
	out, in := grad.Rows, grad.Cols
	if err := checkMatrix(method, "covariance", cov, in, in); err != nil {
		return Result{}, err
	}
	if err := checkRank(method, r, min(out, in)); err != nil {
		return Result{}, err
	}
	if err := checkLoRADA(method, outGradSq, out, opts); err != nil {
		return Result{}, err
	}

	// Z⁻¹ from Z = V·diag(μ)·Vᵀ + λ·I.
	mu, zvecs, err := sol.SymEig(cov)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: covariance: %w", method, err)
	}
	if smallest := mu[len(mu)-1] + opts.Damping; !(smallest > 0) {
		return Result{}, fmt.Errorf("inits: %s: damped covariance is not positive definite (smallest eigenvalue %g); increase Damping above %g: %w", method, smallest, opts.Damping, linalg.ErrArgument)
	}
	zinv, err := eigInverse(sol, mu, zvecs, opts.Damping)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: Z⁻¹: %w", method, err)
	}

	// ΔŴ = −D_y⁻¹·G·Z⁻¹, normalised by its largest singular value.
	delta, err := sol.Mul(grad, zinv)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: G·Z⁻¹: %w", method, err)
	}
	traceYInv := 0.0
	for j := range out {
		yinv := 1 / (outGradSq[j] + opts.Damping)
		traceYInv += yinv
		row := delta.Row(j)
		for k := range row {
			row[k] *= -yinv
		}
	}
	_, top, _, err := sol.RandomizedSVD(delta, 1, linalg.RandomizedOptions{Columns: 8, PowerIters: 16})
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: σ_max of the natural gradient: %w", method, err)
	}
	sigma := top[0]
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return Result{}, fmt.Errorf("inits: %s: natural-gradient scale σ_max = %v is invalid (zero gradient?): %w", method, sigma, linalg.ErrArgument)
	}
	scaleAll(delta, 1/sigma)

	// Ω = −α·ΔŴᵀ·ΔŴ + β·c·Z⁻¹.
	omega, err := sol.TMul(delta, delta)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: ΔŴᵀ·ΔŴ: %w", method, err)
	}
	scaleAll(omega, -opts.BiasAlpha)
	if opts.Beta != 0 {
		c := opts.Beta * traceYInv / float64(opts.Population) / (sigma * sigma)
		for i := range omega.Data {
			omega.Data[i] += c * zinv.Data[i]
		}
	}
	for i := range in { // exact symmetry for SymEig
		for j := i + 1; j < in; j++ {
			m := (omega.Data[i*in+j] + omega.Data[j*in+i]) / 2
			omega.Data[i*in+j], omega.Data[j*in+i] = m, m
		}
	}
	_, vecs, err := sol.SymEig(omega)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: eigenvectors of the guidance Ω: %w", method, err)
	}
	// The r smallest eigenvalues are the last r columns; take them in ascending order.
	idx := make([]int, r)
	for k := range r {
		idx[k] = in - 1 - k
	}
	a0 := pickCols(vecs, idx, canonicalSigns(vecs, idx))
	b, err := sol.Mul(delta, a0)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: ΔŴ·A₀ᵀ: %w", method, err)
	}
	root := 1 / math.Sqrt(opts.Gamma)
	a := a0.T()
	scaleAll(a, root)
	scaleAll(b, root)
	return Result{A: a, B: b}, nil
}

// checkLoRADA validates LoRA-DA's output statistic and options.
func checkLoRADA(method string, outGradSq []float64, out int, opts LoRADAOptions) error {
	if outGradSq == nil {
		return fmt.Errorf("inits: %s: output-gradient statistic (Stats.OutGradSq) is nil: %w", method, ErrMissingStats)
	}
	if len(outGradSq) != out {
		return fmt.Errorf("inits: %s: output-gradient statistic has %d entries, want %d: %w", method, len(outGradSq), out, linalg.ErrShape)
	}
	for j, v := range outGradSq {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("inits: %s: output-gradient statistic has %v at %d: %w", method, v, j, linalg.ErrNonFinite)
		}
		if v < 0 {
			return fmt.Errorf("inits: %s: output-gradient statistic has %v < 0 at %d (it is a mean of squares): %w", method, v, j, linalg.ErrArgument)
		}
	}
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("inits: %s: %s = %v, want %s: %w", method, field, v, want, linalg.ErrArgument)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(opts.Beta) || opts.Beta < 0:
		return bad("Beta", opts.Beta, "a finite β ≥ 0")
	case !finite(opts.BiasAlpha) || opts.BiasAlpha < 0:
		return bad("BiasAlpha", opts.BiasAlpha, "a finite value ≥ 0")
	case opts.Beta == 0 && opts.BiasAlpha == 0:
		return bad("Beta and BiasAlpha", 0, "at least one guidance term")
	case !finite(opts.Damping) || !(opts.Damping > 0):
		return bad("Damping", opts.Damping, "a finite λ > 0")
	case !finite(opts.Gamma) || !(opts.Gamma > 0):
		return bad("Gamma", opts.Gamma, "a finite γ > 0")
	case opts.Beta != 0 && opts.Population < 1:
		return bad("Population", opts.Population, "the training-set size N ≥ 1 when β ≠ 0")
	}
	return nil
}

// canonicalSigns returns, for each column idx[k] of m, the sign (±1) that makes its
// largest-magnitude entry (the first one on ties) positive, as the reference's _canonicalize_columns.
func canonicalSigns(m *linalg.Dense, idx []int) []float64 {
	signs := make([]float64, len(idx))
	for k, j := range idx {
		best, pivot := -1.0, 0.0
		for i := range m.Rows {
			if v := m.Data[i*m.Cols+j]; math.Abs(v) > best {
				best, pivot = math.Abs(v), v
			}
		}
		signs[k] = 1
		if pivot < 0 {
			signs[k] = -1
		}
	}
	return signs
}
