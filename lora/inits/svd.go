package inits

import (
	"fmt"
	"math"
	"strings"

	"github.com/eva-lora/eva/linalg"
)

// ExactSVD, passed as PiSSA's niter, selects the exact thin SVD (PEFT's "pissa").
const ExactSVD = -1

// PiSSA returns PEFT's "pissa" initialisation (Meng et al., 2024): with W = U·diag(σ)·Vᵀ and
// σ' = σ/s over the r largest triplets, B = U_r·diag(√σ'_r) and A = diag(√σ'_r)·V_rᵀ, so that s·B·A
// is the best rank-r approximation of W; Offset is set (the residual is frozen).
//
// niter = ExactSVD uses the exact SVD ("pissa"); niter ≥ 0 uses a randomized SVD with r test
// columns and niter power iterations seeded by seed, as torch.svd_lowrank(W, q=r, niter) does for
// PEFT's "pissa_niter_N" (the draws differ from torch's; the offset keeps the model exact anyway).
func PiSSA(w *linalg.Dense, r int, s float64, niter int, seed uint64) (Result, error) {
	return pissa(linalg.Solver{}, w, r, s, niter, seed)
}

// pissa is PiSSA computed on sol.
func pissa(sol linalg.Solver, w *linalg.Dense, r int, s float64, niter int, seed uint64) (Result, error) {
	const method = "pissa"
	if err := checkWeight(method, w, r, s); err != nil {
		return Result{}, err
	}
	if niter < ExactSVD {
		return Result{}, fmt.Errorf("inits: %s: niter = %d, want ≥ 0 or ExactSVD: %w", method, niter, linalg.ErrArgument)
	}
	if niter == ExactSVD {
		return exactSplit(sol, method, w, r, s, false)
	}
	iters := niter
	if iters == 0 {
		iters = -1 // linalg reads 0 as its default; -1 runs no power iteration
	}
	u, sv, vt, err := sol.RandomizedSVD(w, r, linalg.RandomizedOptions{Columns: r, PowerIters: iters, Seed: seed})
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s_niter_%d: %w", method, niter, err)
	}
	return splitTriplets(u, sv, vt, span(0, r), s), nil
}

// MiLoRA returns the MiLoRA initialisation (Wang et al., NAACL 2025): PiSSA's construction on the r
// smallest singular triplets of W (the minor components), so that B = U_m·diag(√(σ_m/s)),
// A = diag(√(σ_m/s))·V_mᵀ and the principal part stays frozen in the residual; Offset is set. It uses
// the exact thin SVD, whose last r triplets are the minor ones.
func MiLoRA(w *linalg.Dense, r int, s float64) (Result, error) {
	return milora(linalg.Solver{}, w, r, s)
}

// milora is MiLoRA computed on sol.
func milora(sol linalg.Solver, w *linalg.Dense, r int, s float64) (Result, error) {
	if err := checkWeight("milora", w, r, s); err != nil {
		return Result{}, err
	}
	return exactSplit(sol, "milora", w, r, s, true)
}

// Role selects which singular triplets AILoRA puts in the adapter.
type Role int

const (
	// Principal takes the r largest singular triplets (PiSSA-style), for query projections.
	Principal Role = iota
	// Minor takes the r smallest singular triplets (MiLoRA-style), for value projections.
	Minor
)

// String returns "principal" or "minor".
func (r Role) String() string {
	if r == Minor {
		return "minor"
	}
	return "principal"
}

// RoleForLayer returns AILoRA's role for a module path such as "model.layers.3.self_attn.v_proj":
// Minor when the last path component is a value projection (v_proj, value), Principal otherwise.
// Query projections (q_proj, query, GPT-2's fused c_attn) are Principal as the paper prescribes;
// the paper (arXiv 2510.08034) only adapts W^Q and W^V, and this package gives every other layer
// (keys, outputs, MLPs) the Principal role, i.e. PiSSA.
func RoleForLayer(name string) Role {
	last := strings.ToLower(name[strings.LastIndex(name, ".")+1:])
	switch last {
	case "v_proj", "value":
		return Minor
	}
	return Principal
}

// AILoRA returns the AILoRA initialisation (Ji et al., arXiv 2510.08034): the principal r singular
// triplets of W for the Principal role (as PiSSA) or the minor r for the Minor role (as MiLoRA),
// with the residual frozen; Offset is set. The paper writes B = U_r·Σ_r^{1/2}, A = Σ_r^{1/2}·V_rᵀ; we
// divide Σ_r by s first, as PEFT's PiSSA does, so that s·B·A is exactly the chosen triplets whatever
// the scale. It uses the exact SVD.
func AILoRA(w *linalg.Dense, r int, s float64, role Role) (Result, error) {
	return ailora(linalg.Solver{}, w, r, s, role)
}

// ailora is AILoRA computed on sol.
func ailora(sol linalg.Solver, w *linalg.Dense, r int, s float64, role Role) (Result, error) {
	const method = "ailora"
	if role != Principal && role != Minor {
		return Result{}, fmt.Errorf("inits: %s: unknown role %d: %w", method, role, linalg.ErrArgument)
	}
	if err := checkWeight(method, w, r, s); err != nil {
		return Result{}, err
	}
	return exactSplit(sol, method, w, r, s, role == Minor)
}

// checkWeight validates a weight-based method's inputs: W finite, 1 ≤ r ≤ min(out, in), s > 0.
func checkWeight(method string, w *linalg.Dense, r int, s float64) error {
	if err := checkMatrix(method, "weight", w, -1, -1); err != nil {
		return err
	}
	if err := checkRank(method, r, min(w.Rows, w.Cols)); err != nil {
		return err
	}
	return checkScale(method, s)
}

// exactSplit takes the exact thin SVD of the checked W and splits its r largest (or, with minor, r
// smallest) triplets into PiSSA-style factors.
func exactSplit(sol linalg.Solver, method string, w *linalg.Dense, r int, s float64, minor bool) (Result, error) {
	u, sv, vt, err := sol.SVD(w)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: %w", method, err)
	}
	idx := span(0, r)
	if minor {
		idx = span(len(sv)-r, len(sv))
	}
	return splitTriplets(u, sv, vt, idx, s), nil
}

// splitTriplets builds PEFT's PiSSA-style factors from the triplets idx of U·diag(σ)·Vᵀ:
// B = U_idx·diag(√(σ_idx/s)), A = diag(√(σ_idx/s))·Vᵀ_idx, with Offset set.
func splitTriplets(u *linalg.Dense, sv []float64, vt *linalg.Dense, idx []int, s float64) Result {
	root := make([]float64, len(idx))
	for k, i := range idx {
		root[k] = math.Sqrt(max(sv[i], 0) / s)
	}
	return Result{A: pickRows(vt, idx, root), B: pickCols(u, idx, root), Offset: true}
}
