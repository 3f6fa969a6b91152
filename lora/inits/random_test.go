package inits

import (
	"errors"
	"math"
	"testing"

	"github.com/eva-lora/eva/linalg"
)

// TestKaiming checks PEFT's default: B = 0 exactly and A uniform on (−1/√in, 1/√in), through its
// bounds, its reach to the bounds, its mean and its variance bound²/3 (16384 draws: the variance
// estimate's relative error is about 0.7%, the tolerance 5%).
func TestKaiming(t *testing.T) {
	const out, in, r = 24, 256, 64
	res, err := Kaiming(out, in, r, newRNG(1))
	must(t, err)
	assertShapes(t, res, out, in, r)
	if res.Offset {
		t.Error("Kaiming sets Offset")
	}
	for i, v := range res.B.Data {
		if v != 0 {
			t.Fatalf("B[%d] = %v, want 0", i, v)
		}
	}
	bound := 1 / math.Sqrt(in)
	mean, sq, reach := 0.0, 0.0, 0.0
	for _, v := range res.A.Data {
		if math.Abs(v) >= bound {
			t.Fatalf("A entry %v outside (−%v, %v)", v, bound, bound)
		}
		mean += v
		sq += v * v
		reach = max(reach, math.Abs(v))
	}
	n := float64(len(res.A.Data))
	mean /= n
	variance := sq/n - mean*mean
	if want := bound * bound / 3; math.Abs(variance-want) > 0.05*want {
		t.Errorf("variance of A = %.4g, want %.4g (uniform on ±1/√in)", variance, want)
	}
	if math.Abs(mean) > 4*bound/math.Sqrt(3*n) {
		t.Errorf("mean of A = %.3g, want ≈ 0", mean)
	}
	if reach < 0.99*bound {
		t.Errorf("largest |A| = %.4g never approaches the bound %.4g", reach, bound)
	}
}

// TestGaussian checks PEFT's "gaussian": B = 0 and A's empirical standard deviation 1/r (within 3%
// over 16384 draws).
func TestGaussian(t *testing.T) {
	const out, in, r = 24, 4096, 4
	res, err := Gaussian(out, in, r, newRNG(2))
	must(t, err)
	assertShapes(t, res, out, in, r)
	for i, v := range res.B.Data {
		if v != 0 {
			t.Fatalf("B[%d] = %v, want 0", i, v)
		}
	}
	sq := 0.0
	for _, v := range res.A.Data {
		sq += v * v
	}
	std := math.Sqrt(sq / float64(len(res.A.Data)))
	if want := 1.0 / r; math.Abs(std-want) > 0.03*want {
		t.Errorf("std of A = %.4g, want %.4g", std, want)
	}
}

// TestOrthonormal checks the EVA control: B = 0, A·Aᵀ = I, r > in refused, and directions spread
// uniformly: a fixed unit vector keeps on average r/in of its squared length in A's row space.
func TestOrthonormal(t *testing.T) {
	const out, in, r, draws = 8, 64, 4, 400
	rng := newRNG(3)
	kept := 0.0
	for d := range draws {
		res, err := Orthonormal(out, in, r, rng)
		must(t, err)
		if d == 0 {
			assertShapes(t, res, out, in, r)
			for i, v := range res.B.Data {
				if v != 0 {
					t.Fatalf("B[%d] = %v, want 0", i, v)
				}
			}
			for i := range r {
				for j := range r {
					dot := 0.0
					for k := range in {
						dot += res.A.At(i, k) * res.A.At(j, k)
					}
					want := 0.0
					if i == j {
						want = 1
					}
					if math.Abs(dot-want) > 1e-12 {
						t.Fatalf("(A·Aᵀ)[%d][%d] = %v, want %v", i, j, dot, want)
					}
				}
			}
		}
		for i := range r {
			kept += res.A.At(i, 0) * res.A.At(i, 0) // ‖A·e₁‖²
		}
	}
	// ‖A·e₁‖² ~ Beta(r/2, (in−r)/2): mean r/in, std ≈ 0.042 per draw here, 0.0021 over 400.
	if mean, want := kept/draws, float64(r)/in; math.Abs(mean-want) > 0.01 {
		t.Errorf("mean ‖A·e₁‖² = %.4f, want %.4f (uniform directions)", mean, want)
	}
	if _, err := Orthonormal(out, in, in+1, rng); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("r > in: %v, want ErrArgument", err)
	}
}

// TestRandomDeterminism checks that a seed fixes the draws, that other seeds and other layer names
// (through Init) change them.
func TestRandomDeterminism(t *testing.T) {
	for _, name := range []string{"kaiming", "gaussian", "orthonormal"} {
		m, err := Parse(name)
		must(t, err)
		w := gaussian(tOut, tIn, 3)
		draw := func(seed uint64, layer string) *linalg.Dense {
			res, err := Init(m, w, Stats{}, Config{Rank: tRank, Scale: tScale, Seed: seed, Layer: layer})
			must(t, err)
			return res.A
		}
		a := draw(5, "model.layers.0.self_attn.q_proj")
		if relDiff(draw(5, "model.layers.0.self_attn.q_proj"), a) != 0 {
			t.Errorf("%s: the same seed and layer gave different A", name)
		}
		if relDiff(draw(6, "model.layers.0.self_attn.q_proj"), a) == 0 {
			t.Errorf("%s: another seed gave the same A", name)
		}
		if relDiff(draw(5, "model.layers.0.self_attn.v_proj"), a) == 0 {
			t.Errorf("%s: another layer gave the same A", name)
		}
	}
	r1, _ := Kaiming(tOut, tIn, tRank, newRNG(9))
	r2, _ := Kaiming(tOut, tIn, tRank, newRNG(9))
	if relDiff(r1.A, r2.A) != 0 {
		t.Error("Kaiming: equal generators gave different A")
	}
}

// TestRandomErrors checks that a bad rank, size or generator is an error.
func TestRandomErrors(t *testing.T) {
	if _, err := Kaiming(tOut, tIn, 0, newRNG(1)); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("Kaiming r = 0: %v, want ErrArgument", err)
	}
	if _, err := Gaussian(tOut, tIn, 2, nil); !errors.Is(err, linalg.ErrArgument) {
		t.Errorf("Gaussian nil rng: %v, want ErrArgument", err)
	}
	if _, err := Kaiming(0, tIn, 2, newRNG(1)); !errors.Is(err, linalg.ErrShape) {
		t.Errorf("Kaiming out = 0: %v, want ErrShape", err)
	}
}
