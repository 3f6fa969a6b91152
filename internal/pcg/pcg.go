// Package pcg draws reproducible random orders from math/rand/v2's PCG generator (whose output is
// fixed by its specification) with the shuffle and bounded draws written out here, so that an order
// is the same with every Go release: resumed runs and prepared datasets depend on it.
package pcg

import (
	"math/bits"
	"math/rand/v2"
)

// Permutation returns a permutation of 0..n-1 drawn from PCG(seed, stream) (math/rand/v2's
// PCG-DXSM, whose output is fixed by its specification). The Fisher–Yates shuffle and the bounded
// draws (Lemire's multiply-and-reject) are written here rather than taken from math/rand/v2, so the
// order is the same with every Go release: a resumed run sees the batches it would have seen.
func Permutation(n int, seed, stream uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	src := rand.NewPCG(seed, stream)
	for i := n - 1; i > 0; i-- {
		j := int(Bounded(src, uint64(i)+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Bounded draws uniformly from [0, n), n > 0 (Lemire 2019, "Fast random integer generation in an
// interval").
func Bounded(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
