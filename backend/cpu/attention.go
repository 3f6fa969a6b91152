package cpu

import (
	"fmt"

	"github.com/eva-lora/eva/tensor"
)

// attnDims holds the sizes of one attention call and the strided layout of a head's matrices:
// q[b, :, h, :] is an S×Dh matrix starting at qHead(b, h) with leading dimension H·Dh, and likewise
// k and v with KV·Dh; probs[b, h] is a contiguous S×S block.
type attnDims struct {
	b, s, h, kv, dh int
	group           int // query heads per key/value head, H/KV
	lengths         []int32
	window          int // keys a query sees at most (sliding-window attention); 0: no limit
}

func (a attnDims) ldq() int               { return a.h * a.dh }
func (a attnDims) ldk() int               { return a.kv * a.dh }
func (a attnDims) qHead(b, h int) int     { return b*a.s*a.ldq() + h*a.dh }
func (a attnDims) kHead(b, kvh int) int   { return b*a.s*a.ldk() + kvh*a.dh }
func (a attnDims) probsHead(b, h int) int { return (b*a.h + h) * a.s * a.s }

// length is the number of valid keys of batch row b (right padding).
func (a attnDims) length(b int) int {
	if a.lengths == nil {
		return a.s
	}
	return int(a.lengths[b])
}

// keys is the range [lo, hi) of keys query i of a row with length l sees: j ≤ i, j < l and, with a
// window, i − j < window. It is empty (lo ≥ hi) for a padding query past a short row's window.
func (a attnDims) keys(i, l int) (lo, hi int) {
	if a.window > 0 {
		lo = max(0, i-a.window+1)
	}
	return lo, min(i+1, l)
}

// attentionShapes validates q, out-like tensors [B, S, H, Dh], k, v [B, S, KV, Dh], probs [B, H, S, S]
// and lengths, and returns the dimensions.
func attentionShapes(op string, q, k, v, probs *tensor.Tensor, lengths []int32, window int) attnDims {
	qs := mustRank(op, "q", q, 4)
	ks := mustRank(op, "k", k, 4)
	a := attnDims{b: qs[0], s: qs[1], h: qs[2], dh: qs[3], kv: ks[2], lengths: lengths, window: window}
	if window < 0 {
		panic(fmt.Sprintf("cpu: %s: window %d < 0", op, window))
	}
	if a.kv == 0 || a.h%a.kv != 0 {
		panic(fmt.Sprintf("cpu: %s: %d query heads are not a multiple of %d key/value heads", op, a.h, a.kv))
	}
	a.group = a.h / a.kv
	mustShape(op, "k", k, a.b, a.s, a.kv, a.dh)
	mustShape(op, "v", v, a.b, a.s, a.kv, a.dh)
	mustShape(op, "probs", probs, a.b, a.h, a.s, a.s)
	if lengths != nil {
		if len(lengths) != a.b {
			panic(fmt.Sprintf("cpu: %s: %d lengths for batch %d", op, len(lengths), a.b))
		}
		for i, l := range lengths {
			if l < 0 || int(l) > a.s {
				panic(fmt.Sprintf("cpu: %s: lengths[%d] = %d outside [0, %d]", op, i, l, a.s))
			}
		}
	}
	return a
}

// headCost is the rough work of one head's matrix products, for parallelFor.
func (a attnDims) headCost() int { return 4 * a.s * a.s * a.dh }

// attnBlock is the number of query rows processed together. Query rows [r0, r1) see at most the
// first r1 keys, so working in row blocks skips the fully masked upper-right part of the score
// matrix (about half of it for long sequences) while each product stays large enough for BLAS. It is
// a variable so tests can cover several blocks with short sequences.
var attnBlock = 64

// forBlocks calls body for each block of query rows [r0, r1) with [k0, kb), the keys any of those
// rows can see (k0 > 0 only with a sliding window); blocks that see no key are left out.
func (a attnDims) forBlocks(l int, body func(r0, r1, k0, kb int)) {
	for r0 := 0; r0 < a.s; r0 += attnBlock {
		r1 := min(r0+attnBlock, a.s)
		k0, _ := a.keys(r0, l)
		if kb := min(r1, l); kb > k0 {
			body(r0, r1, k0, kb)
		}
	}
}

// AttentionForward computes causal multi-head attention with grouped key/value heads: for each batch
// row b and query head h, probs[b, h] = softmax(scale·q·kᵀ) under the mask (query i sees key j iff
// j ≤ i, j < lengths[b] and, with window > 0, i − j < window; masked weights are 0) and
// out[b, :, h, :] = probs[b, h]·v. Query head h reads key/value head h/(H/KV). A query that sees no
// key (a row of length 0) gives zero probs and output.
func (be *Backend) AttentionForward(out, probs, q, k, v *tensor.Tensor, lengths []int32, window int, scale float32) {
	a := attentionShapes("AttentionForward", q, k, v, probs, lengths, window)
	mustShape("AttentionForward", "out", out, q.Shape()...)
	o, ps, qs, ks, vs := Data(out), Data(probs), Data(q), Data(k), Data(v)
	be.singleThreadedBLAS(func() { be.attentionForward(a, o, ps, qs, ks, vs, scale) })
}

// attentionForward runs AttentionForward's heads in parallel; OpenBLAS must be on one thread.
func (be *Backend) attentionForward(a attnDims, o, ps, qs, ks, vs []float32, scale float32) {
	ldq, ldk, s := a.ldq(), a.ldk(), a.s
	parallelFor(a.b*a.h, a.headCost(), func(lo, hi int) {
		for task := lo; task < hi; task++ {
			b, h := task/a.h, task%a.h
			l := a.length(b)
			qo, ko, po := a.qHead(b, h), a.kHead(b, h/a.group), a.probsHead(b, h)
			p := ps[po : po+s*s]
			// Rows that see no key (a row of length 0, padding past a short row's window) get zero
			// probabilities and output; every other row is cleared only outside its visible keys.
			done := 0
			skip := func(r1 int) {
				if r1 > done {
					clear(p[done*s : r1*s])
					scaleMatrix(o[qo+done*ldq:], r1-done, a.dh, ldq, 0)
				}
			}
			a.forBlocks(l, func(r0, r1, k0, kb int) {
				skip(r0)
				pb := p[r0*s:]
				be.sgemm(false, true, r1-r0, kb-k0, a.dh, scale, qs[qo+r0*ldq:], ldq, ks[ko+k0*ldk:], ldk, 0, pb[k0:], s)
				for i := r0; i < r1; i++ {
					row := p[i*s : (i+1)*s]
					lo, hi := a.keys(i, l)
					lo = min(lo, kb) // a query that sees nothing gets an empty range inside [k0, kb)
					hi = max(hi, lo)
					if lo < hi {
						softmaxInPlace(row[lo:hi])
					}
					clear(row[:lo])
					clear(row[hi:])
				}
				be.sgemm(false, false, r1-r0, a.dh, kb-k0, 1, pb[k0:], s, vs[ko+k0*ldk:], ldk, 0, o[qo+r0*ldq:], ldq)
				done = r1
			})
			skip(s)
		}
	})
}

// softmaxInPlace replaces row by its softmax, subtracting the maximum first; row is not empty.
func softmaxInPlace(row []float32) {
	m := vecMax(row)
	vecScale(row, float32(1/vecExpSum(row, row, m)))
}

// AttentionBackward accumulates dq, dk and dv given the forward's inputs and probs P. With
// dP = dout·vᵀ and dS = P ⊙ (dP − rowsum(P ⊙ dP)): dq += scale·dS·k, dk += scale·dSᵀ·q and
// dv += Pᵀ·dout, summed over the query heads that share a key/value head. Work is split over
// (batch row, key/value head) so that each dk, dv block has a single writer.
func (be *Backend) AttentionBackward(dq, dk, dv, dout, q, k, v, probs *tensor.Tensor, lengths []int32, window int, scale float32) {
	a := attentionShapes("AttentionBackward", q, k, v, probs, lengths, window)
	mustShape("AttentionBackward", "dout", dout, q.Shape()...)
	mustShape("AttentionBackward", "dq", dq, q.Shape()...)
	mustShape("AttentionBackward", "dk", dk, k.Shape()...)
	mustShape("AttentionBackward", "dv", dv, v.Shape()...)
	dqs, dks, dvs, gs := Data(dq), Data(dk), Data(dv), Data(dout)
	qs, ks, vs, ps := Data(q), Data(k), Data(v), Data(probs)
	be.singleThreadedBLAS(func() { be.attentionBackward(a, dqs, dks, dvs, gs, qs, ks, vs, ps, scale) })
}

// attentionBackward runs AttentionBackward's (batch row, key/value head) tasks in parallel; OpenBLAS
// must be on one thread.
func (be *Backend) attentionBackward(a attnDims, dqs, dks, dvs, gs, qs, ks, vs, ps []float32, scale float32) {
	ldq, ldk, s := a.ldq(), a.ldk(), a.s
	parallelFor(a.b*a.kv, 2*a.group*a.headCost(), func(lo, hi int) {
		ds := make([]float32, attnBlock*s) // dP, then dS, of one row block; row stride kb − k0
		for task := lo; task < hi; task++ {
			b, kvh := task/a.kv, task%a.kv
			l, ko := a.length(b), a.kHead(b, kvh)
			for h := kvh * a.group; h < (kvh+1)*a.group; h++ {
				qo, po := a.qHead(b, h), a.probsHead(b, h)
				a.forBlocks(l, func(r0, r1, k0, kb int) {
					pb, qb, gb := ps[po+r0*s+k0:], qs[qo+r0*ldq:], gs[qo+r0*ldq:]
					kw, kk, vk := kb-k0, ks[ko+k0*ldk:], vs[ko+k0*ldk:]
					be.sgemm(false, true, r1-r0, kw, a.dh, 1, gb, ldq, vk, ldk, 0, ds, kw)
					for i := r0; i < r1; i++ {
						row := ds[(i-r0)*kw : (i-r0+1)*kw]
						lo, hi := a.keys(i, l)
						if lo >= hi {
							clear(row)
							continue
						}
						softmaxBackwardInPlace(row[lo-k0:hi-k0], pb[(i-r0)*s+lo-k0:(i-r0)*s+hi-k0])
						clear(row[:lo-k0])
						clear(row[hi-k0:])
					}
					be.sgemm(false, false, r1-r0, a.dh, kw, scale, ds, kw, kk, ldk, 1, dqs[qo+r0*ldq:], ldq)
					be.sgemm(true, false, kw, a.dh, r1-r0, scale, ds, kw, qb, ldq, 1, dks[ko+k0*ldk:], ldk)
					be.sgemm(true, false, kw, a.dh, r1-r0, 1, pb, s, gb, ldq, 1, dvs[ko+k0*ldk:], ldk)
				})
			}
		}
	})
}

// softmaxBackwardInPlace turns dp, the gradient with respect to softmax outputs p of one row, into
// the gradient with respect to its inputs: dp[j] = p[j]·(dp[j] − Σₖ p[k]·dp[k]).
func softmaxBackwardInPlace(dp, p []float32) {
	vecMulSub(dp, p, float32(vecDot(dp, p)))
}
