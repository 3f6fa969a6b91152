package inits

import (
	"fmt"
	"math"
	"sync"

	"github.com/eva-lora/eva/linalg"
)

// CorDAMode selects which singular triplets of W·C̃ CorDA puts in the adapter.
type CorDAMode int

const (
	// IPM (instruction-previewed mode) takes the r largest triplets.
	IPM CorDAMode = iota
	// KPM (knowledge-preserved mode) takes the r smallest triplets.
	KPM
)

// String returns "ipm" or "kpm".
func (m CorDAMode) String() string {
	if m == KPM {
		return "kpm"
	}
	return "ipm"
}

// CorDA damping schedule, as PEFT's collect_eigens_for_layer: δ starts at cordaDamp and doubles
// until ‖C̃·C̃⁻¹ − I‖_F < cordaInvTol. PEFT loops without bound; we stop after cordaMaxDoublings.
const (
	cordaDamp         = 0.01
	cordaInvTol       = 0.05
	cordaMaxDoublings = 40
)

// CorDA returns PEFT's "corda" initialisation (Yang et al., NeurIPS 2024) from the layer's input
// covariance C = cov ([in, in], Stats.Cov):
//
//	C̃ = C + δ·mean(diag C)·I, δ = 0.01 doubled until ‖C̃·C̃⁻¹ − I‖_F < 0.05
//	W·C̃ = U·diag(σ)·Vhᵀ (thin SVD), Vᵀ = Vhᵀ·C̃⁻¹ (so that W = U·diag(σ)·Vᵀ exactly)
//	IPM keeps the r largest triplets, KPM the r smallest; σ' = σ/s
//	B = U_r·diag(√σ'), A = diag(√σ')·V_rᵀ; Offset is set.
//
// Hence s·B·A·C̃ = U_r·diag(σ_r)·Vh_rᵀ, the chosen triplets of W·C̃. The result does not depend on
// the scale of C. We symmetrise C and invert C̃ through its eigendecomposition in float64 (PEFT:
// torch.linalg.inv in float32), so the first δ nearly always passes the test. PEFT's covariance
// divides each calibration sequence by its largest activation before accumulating; Stats.Cov does
// not, which weights sequences differently.
func CorDA(w, cov *linalg.Dense, r int, s float64, mode CorDAMode) (Result, error) {
	return corda(linalg.Solver{}, w, cov, r, s, mode, nil)
}

// CovCache keeps what CorDA derives from a covariance matrix (its damped form and that form's
// inverse), so that layers reading the same input (q/k/v, gate/up), whose statistics share one
// covariance matrix, derive it once. The zero value is ready to use and safe for concurrent use (the
// first caller derives, the others wait for it); keep one per model and statistics, as the
// matrices are looked up by identity.
type CovCache struct {
	mu      sync.Mutex
	derived map[*linalg.Dense]*derivedCov
}

// derivedCov is one covariance matrix's damped form and inverse, derived once.
type derivedCov struct {
	once        sync.Once
	damped, inv *linalg.Dense
	err         error
}

// dampedInverse is the package function dampedInverse, memoised by cov when c is not nil.
func (c *CovCache) dampedInverse(sol linalg.Solver, method string, cov *linalg.Dense) (damped, inv *linalg.Dense, err error) {
	if c == nil {
		return dampedInverse(sol, method, cov)
	}
	c.mu.Lock()
	if c.derived == nil {
		c.derived = map[*linalg.Dense]*derivedCov{}
	}
	d := c.derived[cov]
	if d == nil {
		d = &derivedCov{}
		c.derived[cov] = d
	}
	c.mu.Unlock()
	d.once.Do(func() { d.damped, d.inv, d.err = dampedInverse(sol, method, cov) })
	return d.damped, d.inv, d.err
}

func corda(sol linalg.Solver, w, cov *linalg.Dense, r int, s float64, mode CorDAMode, cache *CovCache) (Result, error) {
	method := "corda-" + mode.String()
	if mode != IPM && mode != KPM {
		return Result{}, fmt.Errorf("inits: corda: unknown mode %d: %w", mode, linalg.ErrArgument)
	}
	if err := checkWeight(method, w, r, s); err != nil {
		return Result{}, err
	}
	in := w.Cols
	if err := checkMatrix(method, "covariance", cov, in, in); err != nil {
		return Result{}, err
	}
	damped, inv, err := cache.dampedInverse(sol, method, cov)
	if err != nil {
		return Result{}, err
	}
	wc, err := sol.Mul(w, damped)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: W·C̃: %w", method, err)
	}
	u, sv, vh, err := sol.SVD(wc)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: SVD of W·C̃: %w", method, err)
	}
	vt, err := sol.Mul(vh, inv)
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: Vhᵀ·C̃⁻¹: %w", method, err)
	}
	idx := span(0, r)
	if mode == KPM {
		idx = span(len(sv)-r, len(sv))
	}
	return splitTriplets(u, sv, vt, idx, s), nil
}

// dampedInverse returns CorDA's damped covariance C̃ and its inverse.
func dampedInverse(sol linalg.Solver, method string, cov *linalg.Dense) (damped, inv *linalg.Dense, err error) {
	n := cov.Rows
	lambda, vecs, err := sol.SymEig(cov)
	if err != nil {
		return nil, nil, fmt.Errorf("inits: %s: covariance: %w", method, err)
	}
	sym := linalg.NewDense(n, n)
	trace := 0.0
	for i := range n {
		for j := range n {
			sym.Data[i*n+j] = (cov.Data[i*n+j] + cov.Data[j*n+i]) / 2
		}
		trace += cov.Data[i*n+i]
	}
	meanDiag := trace / float64(n)
	if !(meanDiag > 0) {
		return nil, nil, fmt.Errorf("inits: %s: covariance has mean diagonal %v, want > 0 (no activations?): %w", method, meanDiag, linalg.ErrArgument)
	}
	damp := cordaDamp
	for range cordaMaxDoublings {
		shift := damp * meanDiag
		damped = sym.Clone()
		for i := range n {
			damped.Data[i*n+i] += shift
		}
		inv, err = eigInverse(sol, lambda, vecs, shift)
		if err != nil {
			return nil, nil, fmt.Errorf("inits: %s: %w", method, err)
		}
		if e := inverseError(sol, damped, inv); e < cordaInvTol { // NaN fails too
			return damped, inv, nil
		}
		damp *= 2
	}
	return nil, nil, fmt.Errorf("inits: %s: damped covariance still not invertible at δ = %g: %w", method, damp/2, linalg.ErrNoConvergence)
}

// eigInverse returns (V·diag(λ)·Vᵀ + shift·I)⁻¹ = V·diag(1/(λ+shift))·Vᵀ.
func eigInverse(sol linalg.Solver, lambda []float64, vecs *linalg.Dense, shift float64) (*linalg.Dense, error) {
	n := len(lambda)
	scaled := vecs.Clone()
	for i := range n {
		row := scaled.Row(i)
		for j := range n {
			row[j] /= lambda[j] + shift
		}
	}
	return sol.MulT(scaled, vecs)
}

// inverseError returns ‖a·inv − I‖_F, or +Inf when the product is not finite.
func inverseError(sol linalg.Solver, a, inv *linalg.Dense) float64 {
	prod, err := sol.Mul(a, inv)
	if err != nil {
		return math.Inf(1)
	}
	n := prod.Rows
	sum := 0.0
	for i := range n {
		for j := range n {
			d := prod.Data[i*n+j]
			if i == j {
				d--
			}
			sum += d * d
		}
	}
	if math.IsNaN(sum) {
		return math.Inf(1)
	}
	return math.Sqrt(sum)
}
