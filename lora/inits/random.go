package inits

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eva-lora/eva/linalg"
)

// Kaiming returns PEFT's default initialisation (init_lora_weights=True): A drawn from
// torch.nn.init.kaiming_uniform_(a=√5), which for A's fan-in `in` is U(−1/√in, 1/√in), and B = 0,
// so the adapter starts as a no-op. Any r ≥ 1 is accepted, as in PEFT.
func Kaiming(out, in, r int, rng *rand.Rand) (Result, error) {
	if err := checkRandom("kaiming", out, in, r, rng); err != nil {
		return Result{}, err
	}
	// gain = √(2/(1+a²)) = √(1/3); bound = √3·gain/√fan_in = 1/√fan_in.
	bound := 1 / math.Sqrt(float64(in))
	a := linalg.NewDense(r, in)
	for i := range a.Data {
		a.Data[i] = bound * (2*rng.Float64() - 1)
	}
	return Result{A: a, B: linalg.NewDense(out, r)}, nil
}

// Gaussian returns PEFT's "gaussian" initialisation: A ~ N(0, (1/r)²) entrywise and B = 0.
func Gaussian(out, in, r int, rng *rand.Rand) (Result, error) {
	if err := checkRandom("gaussian", out, in, r, rng); err != nil {
		return Result{}, err
	}
	std := 1 / float64(r)
	a := linalg.NewDense(r, in)
	for i := range a.Data {
		a.Data[i] = std * rng.NormFloat64()
	}
	return Result{A: a, B: linalg.NewDense(out, r)}, nil
}

// Orthonormal returns A with r orthonormal rows in a uniformly random (Haar) direction and B = 0:
// the shape and row norms of EVA's A (unit-norm principal directions) without the data, so that a
// comparison with it separates what EVA's directions buy from what its scale does. r ≤ in.
func Orthonormal(out, in, r int, rng *rand.Rand) (Result, error) {
	return orthonormal(linalg.Solver{}, out, in, r, rng)
}

// orthonormal is Orthonormal computed on sol.
func orthonormal(sol linalg.Solver, out, in, r int, rng *rand.Rand) (Result, error) {
	if err := checkRandom("orthonormal", out, in, r, rng); err != nil {
		return Result{}, err
	}
	if err := checkRank("orthonormal", r, in); err != nil {
		return Result{}, err
	}
	g := linalg.NewDense(in, r)
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	// The Q of a Gaussian matrix whose R has a non-negative diagonal is Haar-distributed.
	q, err := sol.Orthonormalize(g)
	if err != nil {
		return Result{}, fmt.Errorf("inits: orthonormal: %w", err)
	}
	return Result{A: q.T(), B: linalg.NewDense(out, r)}, nil
}

func checkRandom(method string, out, in, r int, rng *rand.Rand) error {
	if out < 1 || in < 1 {
		return fmt.Errorf("inits: %s: layer is %d→%d, want positive sizes: %w", method, in, out, linalg.ErrShape)
	}
	if r < 1 {
		return fmt.Errorf("inits: %s: rank r = %d, want r ≥ 1: %w", method, r, linalg.ErrArgument)
	}
	if rng == nil {
		return fmt.Errorf("inits: %s: nil random generator: %w", method, linalg.ErrArgument)
	}
	return nil
}
