package inits

import (
	"fmt"

	"github.com/eva-lora/eva/linalg"
)

// OLoRA returns PEFT's "olora" initialisation (Büyükakyüz, 2024): with the reduced QR W = Q·R
// (Q [out, p] with orthonormal columns, R [p, in] upper trapezoidal, p = min(out, in)),
// B = Q[:, :r] and A = R[:r, :], so B·A = Q_r·Q_rᵀ·W, the projection of W onto the span of its first
// r columns; Offset is set (the caller subtracts s·B·A).
//
// PEFT calls torch.linalg.qr in float32, whose Householder R may have negative diagonal entries;
// linalg.QR makes R's diagonal non-negative. The two differ by the sign of matching columns of B and
// rows of A, which leaves B·A unchanged, and SGD and AdamW are equivariant under such sign flips, so
// training follows the same trajectory up to those signs. We compute in float64.
func OLoRA(w *linalg.Dense, r int) (Result, error) {
	return olora(linalg.Solver{}, w, r)
}

// olora is OLoRA computed on sol.
func olora(sol linalg.Solver, w *linalg.Dense, r int) (Result, error) {
	const method = "olora"
	if err := checkMatrix(method, "weight", w, -1, -1); err != nil {
		return Result{}, err
	}
	out, in := w.Rows, w.Cols
	if err := checkRank(method, r, min(out, in)); err != nil {
		return Result{}, err
	}
	var q, rr *linalg.Dense
	var err error
	if out >= in {
		q, rr, err = sol.QR(w)
	} else {
		// Wide W: factor its leading out×out block, W[:, :out] = Q·R₁; then R = Qᵀ·W = [R₁, Qᵀ·W₂]
		// is the out×in upper-trapezoidal factor of the reduced QR.
		var r1 *linalg.Dense
		q, r1, err = sol.QR(pickCols(w, span(0, out), nil))
		if err == nil {
			rr, err = sol.TMul(q, w)
			if err == nil {
				for i := range out { // exact zeros below the diagonal, R₁'s entries on and above it
					row := rr.Row(i)
					clear(row[:i])
					copy(row[i:out], r1.Row(i)[i:])
				}
			}
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("inits: %s: %w", method, err)
	}
	return Result{A: pickRows(rr, span(0, r), nil), B: pickCols(q, span(0, r), nil), Offset: true}, nil
}
