package inits

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// Test sizes: a tall layer W [out, in] and the adapter rank.
const (
	tOut, tIn, tRank = 24, 16, 4
	tScale           = 2.0 // alpha 8 / r 4
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// gaussian returns a rows×cols matrix of standard normal draws.
func gaussian(rows, cols int, seed uint64) *linalg.Dense {
	rng := newRNG(seed)
	m := linalg.NewDense(rows, cols)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

// withSpectrum returns U·diag(sigma)·Vᵀ for random orthonormal U [rows, p] and V [cols, p].
func withSpectrum(t *testing.T, rows, cols int, sigma []float64, seed uint64) *linalg.Dense {
	t.Helper()
	p := len(sigma)
	u, err := linalg.Orthonormalize(gaussian(rows, p, seed))
	must(t, err)
	v, err := linalg.Orthonormalize(gaussian(cols, p, seed+1))
	must(t, err)
	us := pickCols(u, span(0, p), sigma)
	m, err := linalg.MulT(us, v)
	must(t, err)
	return m
}

// geometric returns n values a, a·q, a·q², ….
func geometric(n int, a, q float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = a * math.Pow(q, float64(i))
	}
	return v
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mul(t *testing.T, a, b *linalg.Dense) *linalg.Dense {
	t.Helper()
	c, err := linalg.Mul(a, b)
	must(t, err)
	return c
}

func mulT(t *testing.T, a, b *linalg.Dense) *linalg.Dense {
	t.Helper()
	c, err := linalg.MulT(a, b)
	must(t, err)
	return c
}

func tmul(t *testing.T, a, b *linalg.Dense) *linalg.Dense {
	t.Helper()
	c, err := linalg.TMul(a, b)
	must(t, err)
	return c
}

func svd(t *testing.T, m *linalg.Dense) (*linalg.Dense, []float64, *linalg.Dense) {
	t.Helper()
	u, s, vt, err := linalg.SVD(m)
	must(t, err)
	return u, s, vt
}

// triplets returns Σ_{i∈idx} σ_i·u_i·v_iᵀ, which does not depend on the singular vectors' signs.
func triplets(t *testing.T, u *linalg.Dense, s []float64, vt *linalg.Dense, idx []int) *linalg.Dense {
	t.Helper()
	sv := make([]float64, len(idx))
	for k, i := range idx {
		sv[k] = s[i]
	}
	return mul(t, pickCols(u, idx, sv), pickRows(vt, idx, nil))
}

// projector returns Q·Qᵀ for the columns idx of q (or, with rows, Qᵀ·Q for its rows idx).
func projector(t *testing.T, q *linalg.Dense, idx []int, rows bool) *linalg.Dense {
	t.Helper()
	if rows {
		r := pickRows(q, idx, nil)
		return tmul(t, r, r)
	}
	c := pickCols(q, idx, nil)
	return mulT(t, c, c)
}

func add(a, b *linalg.Dense, cb float64) *linalg.Dense {
	c := a.Clone()
	for i := range c.Data {
		c.Data[i] += cb * b.Data[i]
	}
	return c
}

func frob(m *linalg.Dense) float64 {
	s := 0.0
	for _, v := range m.Data {
		s += v * v
	}
	return math.Sqrt(s)
}

// relDiff returns ‖a − b‖_F / max(‖b‖_F, tiny), or +Inf on a shape mismatch.
func relDiff(a, b *linalg.Dense) float64 {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		return math.Inf(1)
	}
	return frob(add(a, b, -1)) / max(frob(b), 1e-300)
}

// assertClose fails when relDiff(got, want) > tol.
func assertClose(t *testing.T, what string, got, want *linalg.Dense, tol float64) {
	t.Helper()
	if d := relDiff(got, want); !(d <= tol) {
		t.Errorf("%s: relative difference %.3g > %.1g (got %d×%d, want %d×%d)", what, d, tol, got.Rows, got.Cols, want.Rows, want.Cols)
	}
}

func assertSliceClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.12g, want %.12g", what, i, got[i], want[i])
		}
	}
}

func update(t *testing.T, res Result, s float64) *linalg.Dense {
	t.Helper()
	u, err := res.Update(s)
	must(t, err)
	return u
}

// assertShapes checks A [r, in] and B [out, r].
func assertShapes(t *testing.T, res Result, out, in, r int) {
	t.Helper()
	if res.A == nil || res.B == nil || res.A.Rows != r || res.A.Cols != in || res.B.Rows != out || res.B.Cols != r {
		t.Fatalf("A, B shapes wrong: want A %d×%d, B %d×%d; got %v, %v", r, in, out, r, dims(res.A), dims(res.B))
	}
}

func dims(m *linalg.Dense) [2]int {
	if m == nil {
		return [2]int{-1, -1}
	}
	return [2]int{m.Rows, m.Cols}
}

// assertReconstructs checks the offset contract: (W − s·B·A) + s·B·A == W to rounding.
func assertReconstructs(t *testing.T, res Result, w *linalg.Dense, s float64) {
	t.Helper()
	resid, err := res.Residual(w, s)
	must(t, err)
	assertClose(t, "(W − s·B·A) + s·B·A vs W", add(resid, update(t, res, s), 1), w, 1e-14)
}

// inverse returns m⁻¹ by Gauss–Jordan elimination with partial pivoting (independent of inits).
func inverse(t *testing.T, m *linalg.Dense) *linalg.Dense {
	t.Helper()
	n := m.Rows
	a, inv := m.Clone(), linalg.Identity(n)
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a.At(r, c)) > math.Abs(a.At(p, c)) {
				p = r
			}
		}
		if a.At(p, c) == 0 {
			t.Fatal("singular matrix")
		}
		for j := range n {
			a.Data[c*n+j], a.Data[p*n+j] = a.Data[p*n+j], a.Data[c*n+j]
			inv.Data[c*n+j], inv.Data[p*n+j] = inv.Data[p*n+j], inv.Data[c*n+j]
		}
		d := a.At(c, c)
		for j := range n {
			a.Data[c*n+j] /= d
			inv.Data[c*n+j] /= d
		}
		for r := range n {
			if r == c {
				continue
			}
			f := a.At(r, c)
			for j := range n {
				a.Data[r*n+j] -= f * a.Data[c*n+j]
				inv.Data[r*n+j] -= f * inv.Data[c*n+j]
			}
		}
	}
	return inv
}
