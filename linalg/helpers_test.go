package linalg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// testEngines returns the engines to exercise: gonum always, OpenBLAS when it loads.
func testEngines(t testing.TB) []engine {
	engines := []engine{gonumEngine{}}
	if e, err := loadOpenBLAS(); err == nil {
		engines = append(engines, e)
	} else {
		t.Logf("OpenBLAS unavailable, testing gonum only: %v", err)
	}
	return engines
}

// requireOpenBLAS returns the OpenBLAS engine or skips the test.
func requireOpenBLAS(t testing.TB) engine {
	e, err := loadOpenBLAS()
	if err != nil {
		t.Skipf("OpenBLAS unavailable: %v", err)
	}
	return e
}

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// gaussian returns an m×n matrix of independent standard normal entries.
func gaussian(rng *rand.Rand, m, n int) *Dense {
	a := NewDense(m, n)
	for i := range a.Data {
		a.Data[i] = rng.NormFloat64()
	}
	return a
}

// withSpectrum returns A = U·diag(sigma)·Vᵀ for random orthonormal U (m×p) and V (n×p),
// p = len(sigma) ≤ min(m, n), together with U and Vᵀ.
func withSpectrum(t testing.TB, rng *rand.Rand, m, n int, sigma []float64) (a, u, vt *Dense) {
	t.Helper()
	p := len(sigma)
	u, _, err := qrWith(gonumEngine{}, gaussian(rng, m, p))
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := qrWith(gonumEngine{}, gaussian(rng, n, p))
	if err != nil {
		t.Fatal(err)
	}
	us := u.Clone()
	for i := range m {
		for j := range p {
			us.Data[i*p+j] *= sigma[j]
		}
	}
	return naiveMul(us, v.T()), u, v.T()
}

// naiveMul is the triple-loop product, the reference for the BLAS paths.
func naiveMul(a, b *Dense) *Dense {
	c := NewDense(a.Rows, b.Cols)
	for i := range a.Rows {
		for j := range b.Cols {
			var sum float64
			for l := range a.Cols {
				sum += a.Data[i*a.Cols+l] * b.Data[l*b.Cols+j]
			}
			c.Data[i*c.Cols+j] = sum
		}
	}
	return c
}

// reconstruct returns U·diag(s)·Vᵀ.
func reconstruct(u *Dense, s []float64, vt *Dense) *Dense {
	us := u.Clone()
	for i := range us.Rows {
		for j := range us.Cols {
			us.Data[i*us.Cols+j] *= s[j]
		}
	}
	return naiveMul(us, vt)
}

func maxAbs(a *Dense) float64 {
	m := 0.0
	for _, v := range a.Data {
		m = max(m, math.Abs(v))
	}
	return m
}

func maxAbsDiff(a, b *Dense) float64 {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a.Data {
		d = max(d, math.Abs(a.Data[i]-b.Data[i]))
	}
	return d
}

// orthonormalColumnsError returns max |QᵀQ − I|.
func orthonormalColumnsError(q *Dense) float64 {
	return maxAbsDiff(naiveMul(q.T(), q), Identity(q.Cols))
}

// orthonormalRowsError returns max |QQᵀ − I|.
func orthonormalRowsError(q *Dense) float64 {
	return orthonormalColumnsError(q.T())
}

// absCos returns |cos| of the angle between two vectors.
func absCos(x, y []float64) float64 {
	var xy, xx, yy float64
	for i := range x {
		xy += x[i] * y[i]
		xx += x[i] * x[i]
		yy += y[i] * y[i]
	}
	return math.Abs(xy) / math.Sqrt(xx*yy)
}

func checkDescending(t *testing.T, what string, v []float64) {
	t.Helper()
	for i := 1; i < len(v); i++ {
		if v[i] > v[i-1] {
			t.Fatalf("%s not descending at %d: %g > %g", what, i, v[i], v[i-1])
		}
	}
}
