// Package inits computes LoRA initialisations: each method is a pure function from a layer's base
// weight (and, for the data-driven methods, per-layer data statistics) to the adapter factors A and B
// and an offset flag. Everything is float64 on linalg's row-major [linalg.Dense].
//
// # Conventions
//
// W is [out, in] (PyTorch's nn.Linear layout), A is [r, in], B is [out, r], and the adapter adds
// s·B·A to W, with s = alpha/r (or alpha/√r with rsLoRA); the caller passes s. When
// [Result.Offset] is set the caller must replace W by W − s·B·A ([Result.Residual]), so that the
// model's output at step 0 is the pretrained one. Data statistics come in a [Stats]; which fields a
// method reads is given by [Method.Needs] and [Method.NeedsOutGradSq]. Singular vectors are
// determined up to sign; methods that build B·A from them are sign-invariant in the product, and
// SGD and AdamW are equivariant under flipping a matching column of B and row of A.
//
// PEFT and the reference repositories compute in float32; this package computes in float64
// throughout, so results agree with theirs to float32 rounding (up to signs, and up to the draws of
// randomized SVDs).
//
// Invalid input is an error, never a panic: r ≤ 0 or above what the method can give (min(out, in),
// or min(out, in)/2 for LoRA-GA, in for orthonormal; any r ≥ 1 for kaiming and gaussian, as in PEFT), mismatched shapes and
// non-finite entries wrap linalg's ErrArgument, ErrShape and ErrNonFinite; a missing statistic
// wraps [ErrMissingStats].
//
// # Methods
//
// Notation: W = U·diag(σ)·Vᵀ is the thin SVD with σ descending, p = min(out, in), and X_r keeps the
// r leading triplets. G = Stats.Grad, C = Stats.Cov.
//
//	kaiming   A ~ U(−1/√in, 1/√in) (kaiming_uniform_, a=√5), B = 0.          PEFT default; Hu et al. 2022
//	gaussian  A ~ N(0, 1/r²), B = 0.                                          PEFT "gaussian"
//	orthonormal  A = r Haar-random orthonormal rows, B = 0 (needs r ≤ in).   eva's control for EVA's directions
//	pissa     σ' = σ_r/s; B = U_r·√σ', A = √σ'·V_rᵀ; offset.                  Meng et al., NeurIPS 2024; PEFT "pissa"
//	          pissa_niter_N: the same from a randomized SVD (r columns, N power iterations).
//	milora    PiSSA on the r smallest triplets; offset.                       Wang et al., NAACL 2025
//	olora     W = Q·R (reduced QR); B = Q[:, :r], A = R[:r, :]; offset.        Büyükakyüz 2024; PEFT "olora"
//	corda     C̃ = C + δ·mean(diag C)·I (δ = 0.01, doubled until C̃ inverts);   Yang et al., NeurIPS 2024; PEFT "corda"
//	          W·C̃ = U·diag(σ)·Vhᵀ, Vᵀ = Vhᵀ·C̃⁻¹; IPM takes the top r, KPM the bottom r;
//	          σ' = σ/s; B = U·√σ', A = √σ'·Vᵀ; offset.
//	lora-ga   2r leading triplets of G (randomized SVD, q = min(4r, p), 4 iterations);
//	          ArB2r: A = V_{1..r}ᵀ, B = U_{r+1..2r}·diag(σ_{r+1..2r})·out^{1/4}/√γ (γ = 16); offset.
//	                                                                          Wang, Yu, Li, NeurIPS 2024; PEFT "lora_ga"
//	lora-one  −G = U·diag(σ)·Vᵀ; B = U_r·√σ_r/√(σ₁γ), A = √σ_r·V_rᵀ/√(σ₁γ) (γ = 64),
//	          so B·A = −G_r/(γσ₁); no offset.                                 Zhang, Liu, Chen, ICML 2025 (YuanheZ/LoRA-One)
//	lora-da   Z = C + λI, D_y = diag(OutGradSq) + λ; ΔŴ = −D_y⁻¹·G·Z⁻¹/σ_max;
//	          Ω = −ΔŴᵀΔŴ + β·c·Z⁻¹ (c = tr D_y⁻¹/(Nσ_max²), β = 0.03); A₀ = r smallest
//	          eigenvectors of Ω; A = A₀/√γ, B = ΔŴ·A₀ᵀ/√γ (γ = 1024); no offset.
//	                                                                          Zhang, Chu et al., ICML 2026 (zqy0126/LoRA-DA)
//	ailora    query-like layers: pissa (principal); value layers: milora (minor);
//	          other layers: principal (our choice); offset.                   Ji et al., arXiv 2510.08034
//	eva       in the Method registry only: built from an eva.State by another package.
//	                                                                          Paischer et al. (EVA)
//
// Each function's documentation gives the exact formula, the code it mirrors and every departure
// from it. [Parse] maps a name (PEFT's spellings included) to a [Method], and [Init] dispatches one
// layer to the right function.
package inits
