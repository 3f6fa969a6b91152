package cpu

import (
	"math"

	"github.com/eva-lora/eva/tensor"
)

// Normalisation statistics are accumulated in float32, as PyTorch does for float32 inputs (its
// vectorised reductions keep several partial sums; sum32 keeps eight, the AVX-512 kernel 32).
// Backward passes accumulate their row reductions in float64.

// sum32 returns Σ x[i] in float32 with eight interleaved partial sums.
func sum32(x []float32) float32 {
	var p [8]float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		p[0] += x[i]
		p[1] += x[i+1]
		p[2] += x[i+2]
		p[3] += x[i+3]
		p[4] += x[i+4]
		p[5] += x[i+5]
		p[6] += x[i+6]
		p[7] += x[i+7]
	}
	for l := 0; i < len(x); i, l = i+1, l+1 {
		p[l] += x[i]
	}
	return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
}

// sumSquares32 returns Σ (x[i] − c)² in float32 with eight interleaved partial sums.
func sumSquares32(x []float32, c float32) float32 {
	var p [8]float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		for l := range p {
			e := v[l] - c
			p[l] += e * e
		}
	}
	for l := 0; i < len(x); i, l = i+1, l+1 {
		e := x[i] - c
		p[l] += e * e
	}
	return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
}

// rsqrt32 returns 1/√v rounded to float32.
func rsqrt32(v float32) float32 { return float32(1 / math.Sqrt(float64(v))) }

// normShapes checks x, out [N, D], w [D] and per-row statistics [N]; it returns N and D.
func normShapes(op string, out, x, w *tensor.Tensor, stats ...*tensor.Tensor) (n, d int) {
	n, d = matrix(op, "x", x)
	mustShape(op, "out", out, n, d)
	mustShape(op, "w", w, d)
	for _, s := range stats {
		mustShape(op, "statistics", s, n)
	}
	return n, d
}

// RMSNormForward computes rstd[i] = 1/√(mean(x[i,:]²) + eps) and out = (x·rstd)·w for x, out [N, D],
// w [D], rstd [N].
func (be *Backend) RMSNormForward(out, rstd, x, w *tensor.Tensor, eps float32) {
	n, d := normShapes("RMSNormForward", out, x, w, rstd)
	o, r, xs, ws := Data(out), Data(rstd), Data(x), Data(w)
	parallelFor(n, 2*d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := xs[i*d : (i+1)*d]
			ri := rsqrt32(vecSumSquares(row)/float32(d) + eps)
			r[i] = ri
			vecScaleMul(o[i*d:(i+1)*d], row, ws, ri)
		}
	})
}

// RMSNormBackward accumulates, with y = x·r·w and r = rstd,
// dx += r·w·dy − x·r³·(Σₖ dyₖ·wₖ·xₖ)/D and dw += Σᵢ dy·x·r (dw skipped when nil).
func (be *Backend) RMSNormBackward(dx, dw, dout, x, w, rstd *tensor.Tensor) {
	n, d := normShapes("RMSNormBackward", dout, x, w, rstd)
	mustShape("RMSNormBackward", "dx", dx, n, d)
	g, xs, ws, r := Data(dout), Data(x), Data(w), Data(rstd)
	dxs := Data(dx)
	parallelFor(n, 4*d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			grow, xrow, dxrow := g[i*d:(i+1)*d], xs[i*d:(i+1)*d], dxs[i*d:(i+1)*d]
			ri := float64(r[i])
			c := vecDot3(grow, ws, xrow) * ri * ri * ri / float64(d)
			vecRMSNormBackward(dxrow, grow, xrow, ws, r[i], float32(c))
		}
	})
	if dw == nil {
		return
	}
	mustShape("RMSNormBackward", "dw", dw, d)
	dws := Data(dw)
	forColumns(n, d, func(c0, c1 int) {
		acc := make([]float64, c1-c0)
		for i := range n {
			vecAccMul(acc, g[i*d+c0:i*d+c1], xs[i*d+c0:i*d+c1], float64(r[i]))
		}
		for j, v := range acc {
			dws[c0+j] += float32(v)
		}
	})
}

// LayerNormForward computes mean[i] and rstd[i] = 1/√(var(x[i,:]) + eps) with the biased variance,
// and out = (x − mean)·rstd·w + b (b may be nil).
func (be *Backend) LayerNormForward(out, mean, rstd, x, w, b *tensor.Tensor, eps float32) {
	n, d := normShapes("LayerNormForward", out, x, w, mean, rstd)
	var bs []float32
	if b != nil {
		mustShape("LayerNormForward", "b", b, d)
		bs = Data(b)
	}
	o, ms, rs, xs, ws := Data(out), Data(mean), Data(rstd), Data(x), Data(w)
	parallelFor(n, 3*d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, orow := xs[i*d:(i+1)*d], o[i*d:(i+1)*d]
			mu := sum32(row) / float32(d)
			variance := sumSquares32(row, mu) / float32(d)
			ri := rsqrt32(variance + eps)
			ms[i], rs[i] = mu, ri
			for j, v := range row {
				y := (v - mu) * ri * ws[j]
				if bs != nil {
					y += bs[j]
				}
				orow[j] = y
			}
		}
	})
}

// LayerNormBackward accumulates, with x̂ = (x − mean)·rstd and ĝ = dy·w,
// dx += rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), dw += Σᵢ dy·x̂ and db += Σᵢ dy; nil gradients are skipped.
func (be *Backend) LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd *tensor.Tensor) {
	n, d := normShapes("LayerNormBackward", dout, x, w, mean, rstd)
	g, xs, ws, ms, rs := Data(dout), Data(x), Data(w), Data(mean), Data(rstd)
	if dx != nil {
		mustShape("LayerNormBackward", "dx", dx, n, d)
		dxs := Data(dx)
		parallelFor(n, 5*d, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				grow, xrow, dxrow := g[i*d:(i+1)*d], xs[i*d:(i+1)*d], dxs[i*d:(i+1)*d]
				mu, ri := float64(ms[i]), float64(rs[i])
				var sumG, sumGX float64
				for j, gv := range grow {
					gh := float64(gv) * float64(ws[j])
					sumG += gh
					sumGX += gh * (float64(xrow[j]) - mu) * ri
				}
				sumG /= float64(d)
				sumGX /= float64(d)
				for j, gv := range grow {
					gh := float64(gv) * float64(ws[j])
					xh := (float64(xrow[j]) - mu) * ri
					dxrow[j] += float32(ri * (gh - sumG - xh*sumGX))
				}
			}
		})
	}
	var dws, dbs []float32
	if dw != nil {
		mustShape("LayerNormBackward", "dw", dw, d)
		dws = Data(dw)
	}
	if db != nil {
		mustShape("LayerNormBackward", "db", db, d)
		dbs = Data(db)
	}
	if dws == nil && dbs == nil {
		return
	}
	forColumns(n, d, func(c0, c1 int) {
		accW, accB := make([]float64, c1-c0), make([]float64, c1-c0)
		for i := range n {
			mu, ri := float64(ms[i]), float64(rs[i])
			grow, xrow := g[i*d+c0:i*d+c1], xs[i*d+c0:i*d+c1]
			for j := range accW {
				accW[j] += float64(grow[j]) * (float64(xrow[j]) - mu) * ri
				accB[j] += float64(grow[j])
			}
		}
		for j := range accW {
			if dws != nil {
				dws[c0+j] += float32(accW[j])
			}
			if dbs != nil {
				dbs[c0+j] += float32(accB[j])
			}
		}
	})
}
