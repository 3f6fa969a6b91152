package cpu

import (
	"fmt"

	"github.com/eva-lora/eva/tensor"
)

// checkIDs panics unless ids has n entries, each a row of a table with v rows.
func checkIDs(op string, ids []int32, n, v int) {
	if len(ids) != n {
		panic(fmt.Sprintf("cpu: %s: %d ids for %d rows", op, len(ids), n))
	}
	for i, id := range ids {
		if id < 0 || int(id) >= v {
			panic(fmt.Sprintf("cpu: %s: ids[%d] = %d outside a table of %d rows", op, i, id, v))
		}
	}
}

// EmbeddingForward gathers out[i, :] = table[ids[i], :] with out [N, D], table [V, D].
func (be *Backend) EmbeddingForward(out, table *tensor.Tensor, ids []int32) {
	v, d := matrix("EmbeddingForward", "table", table)
	n, _ := matrix("EmbeddingForward", "out", out)
	mustShape("EmbeddingForward", "out", out, n, d)
	checkIDs("EmbeddingForward", ids, n, v)
	o, t := Data(out), Data(table)
	parallelFor(n, d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			id := int(ids[i])
			copy(o[i*d:(i+1)*d], t[id*d:(id+1)*d])
		}
	})
}

// EmbeddingBackward scatter-adds dtable[ids[i], :] += dout[i, :]. Goroutines own disjoint column
// ranges, so repeated ids never race and the sum order is fixed.
func (be *Backend) EmbeddingBackward(dtable, dout *tensor.Tensor, ids []int32) {
	v, d := matrix("EmbeddingBackward", "dtable", dtable)
	n, _ := matrix("EmbeddingBackward", "dout", dout)
	mustShape("EmbeddingBackward", "dout", dout, n, d)
	checkIDs("EmbeddingBackward", ids, n, v)
	dt, g := Data(dtable), Data(dout)
	forColumns(n, d, func(c0, c1 int) {
		for i, id := range ids {
			dst, src := dt[int(id)*d+c0:int(id)*d+c1], g[i*d+c0:i*d+c1]
			for j := range dst {
				dst[j] += src[j]
			}
		}
	})
}
