package cpu

import "math"

// fastExp returns e^x with a relative error below 1e-8, ample for kernels that store float32, at
// about half the cost of math.Exp on this machine: n = round(x/ln2), r = x − n·ln2 with |r| ≤ ln2/2,
// e^r from its degree-7 Taylor polynomial evaluated in Estrin form (short dependency chains), and
// 2^n built from its exponent bits. Large x gives +Inf, very negative x gives 0, NaN passes through.
func fastExp(x float64) float64 {
	const (
		log2e = 1.4426950408889634
		ln2   = 0.6931471805599453
	)
	switch {
	case x != x:
		return x
	case x > 709:
		return math.Inf(1)
	case x < -708:
		return 0
	}
	n := math.Floor(x*log2e + 0.5)
	r := x - n*ln2
	r2 := r * r
	p := (1 + r) + r2*(1.0/2+r*(1.0/6)) + (r2*r2)*((1.0/24+r*(1.0/120))+r2*(1.0/720+r*(1.0/5040)))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

// sigmoid returns 1/(1+e^-x); it saturates to 0 and 1 without NaN.
func sigmoid(x float64) float64 { return 1 / (1 + fastExp(-x)) }

// tanhViaExp returns tanh(x) as 1 − 2/(e^{2x}+1), accurate to about 1e-8 in absolute terms (all the
// float32 kernels need) and cheaper than math.Tanh.
func tanhViaExp(x float64) float64 { return 1 - 2/(fastExp(2*x)+1) }
