package cpu

import "math"

// Naive float64 references for every kernel, written for clarity, not speed.

// refGemm returns alpha·op(a)·op(b) + beta·c for row-major a, b, c without padding.
func refGemm(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) []float64 {
	at := func(i, p int) float64 {
		if transA {
			return a[p*m+i]
		}
		return a[i*k+p]
	}
	bt := func(p, j int) float64 {
		if transB {
			return b[j*k+p]
		}
		return b[p*n+j]
	}
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				s += at(i, p) * bt(p, j)
			}
			out[i*n+j] = alpha * s
			if beta != 0 {
				out[i*n+j] += beta * c[i*n+j]
			}
		}
	}
	return out
}

func refRMSNorm(x, w []float64, n, d int, eps float64) (out, rstd []float64) {
	out, rstd = make([]float64, n*d), make([]float64, n)
	for i := range n {
		ss := 0.0
		for j := range d {
			ss += x[i*d+j] * x[i*d+j]
		}
		rstd[i] = 1 / math.Sqrt(ss/float64(d)+eps)
		for j := range d {
			out[i*d+j] = x[i*d+j] * rstd[i] * w[j]
		}
	}
	return out, rstd
}

// refLayerNorm normalises rows with the biased variance; b may be nil.
func refLayerNorm(x, w, b []float64, n, d int, eps float64) (out, mean, rstd []float64) {
	out, mean, rstd = make([]float64, n*d), make([]float64, n), make([]float64, n)
	for i := range n {
		mu, vr := 0.0, 0.0
		for j := range d {
			mu += x[i*d+j]
		}
		mu /= float64(d)
		for j := range d {
			vr += (x[i*d+j] - mu) * (x[i*d+j] - mu)
		}
		mean[i], rstd[i] = mu, 1/math.Sqrt(vr/float64(d)+eps)
		for j := range d {
			out[i*d+j] = (x[i*d+j] - mu) * rstd[i] * w[j]
			if b != nil {
				out[i*d+j] += b[j]
			}
		}
	}
	return out, mean, rstd
}

func refSwiGLU(gate, up []float64) []float64 {
	out := make([]float64, len(gate))
	for i, g := range gate {
		out[i] = g / (1 + math.Exp(-g)) * up[i]
	}
	return out
}

func refGELU(x []float64, tanh bool) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		if tanh {
			out[i] = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		} else {
			out[i] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		}
	}
	return out
}

// refRoPE rotates a copy of x [B, S, H, Dh] by the angles whose cosines and sines are the tables [S, Dh/2].
func refRoPE(x, cos, sin []float64, b, s, h, dh int, inverse bool) []float64 {
	out := append([]float64(nil), x...)
	half := dh / 2
	for bi := range b {
		for si := range s {
			for hi := range h {
				base := ((bi*s+si)*h + hi) * dh
				for j := range half {
					c, sn := cos[si*half+j], sin[si*half+j]
					if inverse {
						sn = -sn
					}
					x1, x2 := x[base+j], x[base+j+half]
					out[base+j] = x1*c - x2*sn
					out[base+j+half] = x2*c + x1*sn
				}
			}
		}
	}
	return out
}

func refEmbedding(table []float64, ids []int32, d int) []float64 {
	out := make([]float64, len(ids)*d)
	for i, id := range ids {
		copy(out[i*d:(i+1)*d], table[int(id)*d:(int(id)+1)*d])
	}
	return out
}

// refAttention computes causal grouped-query attention one score at a time.
func refAttention(q, k, v []float64, b, s, h, kv, dh int, lengths []int32, window int, scale float64) (out, probs []float64) {
	out, probs = make([]float64, b*s*h*dh), make([]float64, b*h*s*s)
	for bi := range b {
		l := s
		if lengths != nil {
			l = int(lengths[bi])
		}
		for hi := range h {
			kvh := hi / (h / kv)
			for i := range s {
				n := min(i+1, l)
				j0 := 0
				if window > 0 {
					j0 = max(0, i-window+1)
				}
				if n <= j0 {
					continue
				}
				scores := make([]float64, n)
				m := math.Inf(-1)
				for j := j0; j < n; j++ {
					for c := range dh {
						scores[j] += q[((bi*s+i)*h+hi)*dh+c] * k[((bi*s+j)*kv+kvh)*dh+c]
					}
					scores[j] *= scale
					m = max(m, scores[j])
				}
				sum := 0.0
				for j := j0; j < n; j++ {
					scores[j] = math.Exp(scores[j] - m)
					sum += scores[j]
				}
				for j := j0; j < n; j++ {
					p := scores[j] / sum
					probs[((bi*h+hi)*s+i)*s+j] = p
					for c := range dh {
						out[((bi*s+i)*h+hi)*dh+c] += p * v[((bi*s+j)*kv+kvh)*dh+c]
					}
				}
			}
		}
	}
	return out, probs
}

// refCrossEntropy returns per-row losses, 0 for negative targets.
func refCrossEntropy(logits []float64, targets []int32, v int) []float64 {
	out := make([]float64, len(targets))
	for i, t := range targets {
		if t < 0 {
			continue
		}
		row := logits[i*v : (i+1)*v]
		m := math.Inf(-1)
		for _, z := range row {
			m = max(m, z)
		}
		s := 0.0
		for _, z := range row {
			s += math.Exp(z - m)
		}
		out[i] = m + math.Log(s) - row[t]
	}
	return out
}
