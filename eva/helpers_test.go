package eva

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// planted draws rows x = μ + Σ_i z_i·scale_i·u_i + noise·ε with orthonormal directions u_i, standard
// normal z and ε: PCA of many such rows recovers u_i in order when the scales are distinct.
type planted struct {
	d      int
	mean   []float64
	dirs   *linalg.Dense // len(scales)×d, orthonormal rows
	scales []float64
	noise  float64
}

func newPlanted(t testing.TB, rng *rand.Rand, d int, scales []float64, noise float64) *planted {
	t.Helper()
	p := &planted{d: d, mean: make([]float64, d), dirs: linalg.NewDense(0, d), scales: scales, noise: noise}
	if len(scales) > 0 {
		g := linalg.NewDense(d, len(scales))
		for i := range g.Data {
			g.Data[i] = rng.NormFloat64()
		}
		q, err := linalg.Orthonormalize(g)
		if err != nil {
			t.Fatal(err)
		}
		p.dirs = q.T()
	}
	for j := range p.mean {
		p.mean[j] = 3 * rng.NormFloat64()
	}
	return p
}

// rows draws n rows as float32, row-major.
func (p *planted) rows(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n*p.d)
	for i := range n {
		row := out[i*p.d : (i+1)*p.d]
		x := make([]float64, p.d)
		copy(x, p.mean)
		for c, s := range p.scales {
			z := s * rng.NormFloat64()
			for j, u := range p.dirs.Row(c) {
				x[j] += z * u
			}
		}
		for j := range x {
			row[j] = float32(x[j] + p.noise*rng.NormFloat64())
		}
	}
	return out
}

// exactPCA returns the principal directions (svd_flip signs), singular values and EVRs of all rows
// (n×d float32), computed directly from the centred matrix.
func exactPCA(t testing.TB, rows []float32, n, d int) (*linalg.Dense, []float64, []float64) {
	t.Helper()
	x := make([]float64, n*d)
	b := centreBatch(rows, n, d, x)
	_, s, vt, err := linalg.SVD(&linalg.Dense{Rows: n, Cols: d, Data: x})
	if err != nil {
		t.Fatal(err)
	}
	flipSigns(vt)
	total := 0.0
	for _, u := range b.unnorm {
		total += u
	}
	evr := make([]float64, len(s))
	for i, v := range s {
		evr[i] = v * v / total
	}
	return vt, s, evr
}

// dot returns the inner product of two equal-length vectors.
func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// relErr returns |a − b| / max(|b|, tiny).
func relErr(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300)
}

// drive runs a calibration the way calib does: before each batch check Done, feed the listening
// layers (rows from source, indexed by hook layer name and batch), end the batch. It stops at Done
// or when EndBatch fails.
func drive(t testing.TB, run *Run, source func(layer string, batch int) ([]float32, int)) error {
	t.Helper()
	for b := 0; ; b++ {
		if run.Done() {
			return nil
		}
		for _, name := range run.Listening() {
			rows, n := source(name, b)
			if err := run.Observe(name, rows, n); err != nil {
				return err
			}
		}
		if err := run.EndBatch(); err != nil {
			return err
		}
	}
}

// testEnv is a PCA step's environment outside a Run: the package-level solver and a fresh buffer.
func testEnv() stepEnv { return stepEnv{solver: linalg.Solver{}, buf: &scratch{}} }
