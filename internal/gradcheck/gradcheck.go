// Package gradcheck compares analytic gradients with central finite differences. Forward passes run
// in float32, so the step and tolerance are chosen for float32: a step h of about 1e-2 relative to the
// inputs keeps float32 rounding noise (≈1e-7·|loss|/h) well below the tolerance.
package gradcheck

import (
	"fmt"
	"math"
)

// Result describes the worst disagreement found by Check.
type Result struct {
	// Index is the parameter index of the worst entry; Analytic and Numeric its two gradients.
	Index             int
	Analytic, Numeric float64
	// Err is |Analytic − Numeric| / max(1, |Numeric|) at that entry.
	Err float64
}

// String formats the result for a test message.
func (r Result) String() string {
	return fmt.Sprintf("index %d: analytic %.6g, numeric %.6g (error %.3g)", r.Index, r.Analytic, r.Numeric, r.Err)
}

// Check perturbs p[i] for each i in idx by ±h (restoring it afterwards), evaluates loss (which must
// read p), and compares (loss(+h) − loss(−h)) / 2h with grad[i]. It returns the worst entry.
func Check(p, grad []float32, idx []int, h float64, loss func() float64) Result {
	var worst Result
	worst.Index = -1
	for _, i := range idx {
		orig := p[i]
		p[i] = orig + float32(h)
		up := loss()
		p[i] = orig - float32(h)
		down := loss()
		p[i] = orig
		// use the step actually taken in float32
		step := float64(orig+float32(h)) - float64(orig-float32(h))
		num := (up - down) / step
		ana := float64(grad[i])
		e := math.Abs(ana-num) / math.Max(1, math.Abs(num))
		if worst.Index < 0 || e > worst.Err || math.IsNaN(e) {
			worst = Result{Index: i, Analytic: ana, Numeric: num, Err: e}
		}
	}
	return worst
}

// Spread returns up to k indices spread evenly over [0, n).
func Spread(n, k int) []int {
	if k >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, k)
	for j := range idx {
		idx[j] = j * n / k
	}
	return idx
}
