package cpu

import (
	"fmt"

	"github.com/eva-lora/eva/tensor"
)

// RoPE rotates x [B, S, H, Dh] in place with the rotate-half convention: for position s and
// j < Dh/2 the pair (x[j], x[j+Dh/2]) becomes (x[j]·c − x[j+Dh/2]·sn, x[j+Dh/2]·c + x[j]·sn) with
// c = cos[s, j], sn = sin[s, j] from tables [S, Dh/2]. inverse rotates by the negative angle, which is
// the backward pass of the forward rotation.
func (be *Backend) RoPE(x, cos, sin *tensor.Tensor, inverse bool) {
	shape := mustRank("RoPE", "x", x, 4)
	b, s, h, dh := shape[0], shape[1], shape[2], shape[3]
	if dh%2 != 0 {
		panic(fmt.Sprintf("cpu: RoPE: head size %d of %v is odd", dh, shape))
	}
	half := dh / 2
	mustShape("RoPE", "cos", cos, s, half)
	mustShape("RoPE", "sin", sin, s, half)
	xs, cs, ss := Data(x), Data(cos), Data(sin)
	sign := float32(1)
	if inverse {
		sign = -1
	}
	parallelFor(b*s, h*dh*3, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			pos := row % s
			c, sn := cs[pos*half:(pos+1)*half], ss[pos*half:(pos+1)*half]
			for head := range h {
				v := xs[(row*h+head)*dh : (row*h+head+1)*dh]
				x1, x2 := v[:half], v[half:]
				for j := range half {
					a, bb, sj := x1[j], x2[j], sign*sn[j]
					x1[j] = a*c[j] - bb*sj
					x2[j] = bb*c[j] + a*sj
				}
			}
		}
	})
}
