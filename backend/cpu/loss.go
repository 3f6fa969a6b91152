package cpu

import (
	"fmt"
	"math"

	"github.com/eva-lora/eva/tensor"
)

// logSumExp returns the row maximum m and s = Σⱼ e^(row[j] − m), so logsumexp(row) = m + log s,
// using scratch (as long as row) for the exponentials. Subtracting the maximum keeps every exponent
// ≤ 0; s is accumulated in float64.
func logSumExp(row, scratch []float32) (m float32, s float64) {
	m = vecMax(row)
	return m, vecExpSum(scratch, row, m)
}

// lossShapes checks logits [N, V] and one target per row (negative, or a valid class).
func lossShapes(op string, logits *tensor.Tensor, targets []int32) (n, v int) {
	n, v = matrix(op, "logits", logits)
	if len(targets) != n {
		panic(fmt.Sprintf("cpu: %s: %d targets for %d rows", op, len(targets), n))
	}
	for i, t := range targets {
		if int(t) >= v {
			panic(fmt.Sprintf("cpu: %s: targets[%d] = %d outside %d classes", op, i, t, v))
		}
	}
	return n, v
}

// CrossEntropyForward writes losses[i] = logsumexp(logits[i, :]) − logits[i, targets[i]] for logits
// [N, V] and losses [N]; rows whose target is negative get 0.
func (be *Backend) CrossEntropyForward(losses, logits *tensor.Tensor, targets []int32) {
	n, v := lossShapes("CrossEntropyForward", logits, targets)
	mustShape("CrossEntropyForward", "losses", losses, n)
	l, x := Data(losses), Data(logits)
	parallelFor(n, v*elementCost, func(lo, hi int) {
		scratch := make([]float32, v)
		for i := lo; i < hi; i++ {
			if targets[i] < 0 {
				l[i] = 0
				continue
			}
			row := x[i*v : (i+1)*v]
			m, s := logSumExp(row, scratch)
			l[i] = float32(float64(m-row[targets[i]]) + math.Log(s))
		}
	})
}

// CrossEntropyLossGrad writes losses[i] and overwrites grad[i, :] = scale·(softmax(logits[i, :]) −
// onehot(targets[i])) (zero for negative targets) in one pass over each row. grad may alias logits:
// each element is read before it is written.
func (be *Backend) CrossEntropyLossGrad(losses, grad, logits *tensor.Tensor, targets []int32, scale float32) {
	n, v := lossShapes("CrossEntropyLossGrad", logits, targets)
	mustShape("CrossEntropyLossGrad", "losses", losses, n)
	mustShape("CrossEntropyLossGrad", "grad", grad, n, v)
	l, d, x := Data(losses), Data(grad), Data(logits)
	parallelFor(n, v*elementCost, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, drow := x[i*v:(i+1)*v], d[i*v:(i+1)*v]
			t := targets[i]
			if t < 0 {
				l[i] = 0
				clear(drow)
				continue
			}
			zt := row[t]
			m, s := logSumExp(row, drow) // drow may be row: each element is read before it is written
			l[i] = float32(float64(m-zt) + math.Log(s))
			vecScale(drow, float32(float64(scale)/s))
			drow[t] -= scale
		}
	})
}
