package eva_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/eva-lora/eva/eva"
)

// A calibration loop as a driver runs it: before each batch check Done and ask which layers listen,
// feed their rows, end the batch. Here two layers share one input (like q_proj and k_proj) and a
// third gets its own; the rows are synthetic.
func Example() {
	cfg := eva.DefaultConfig()
	cfg.R, cfg.SVD = 2, eva.Exact
	run, err := eva.New(cfg, []eva.Layer{
		{Name: "q", In: 8},
		{Name: "k", In: 8, SharesInputWith: "q"},
		{Name: "o", In: 8},
	})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	spread := map[string][]float64{"q": {9, 3, 1, 1, 1, 1, 1, 1}, "o": {2, 2, 2, 2, 1, 1, 1, 1}}
	for !run.Done() {
		for _, name := range run.Listening() {
			const n = 64
			rows := make([]float32, n*8)
			for i := range rows {
				rows[i] = float32(spread[name][i%8] * rng.NormFloat64())
			}
			if err := run.Observe(name, rows, n); err != nil {
				panic(err)
			}
		}
		if err := run.EndBatch(); err != nil {
			panic(err)
		}
	}
	state, err := run.Result()
	if err != nil {
		panic(err)
	}
	for _, l := range state.Layers {
		fmt.Printf("%s: rank %d, alpha %g\n", l.Name, l.Rank, l.Alpha)
	}
	// q's input has one dominant direction, o's four equal ones: o takes the ranks q does not need,
	// and alpha follows the rank so that alpha/rank stays 8/2.

	// Output:
	// q: rank 1, alpha 4
	// k: rank 1, alpha 4
	// o: rank 4, alpha 16
}
