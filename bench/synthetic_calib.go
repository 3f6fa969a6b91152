package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/linalg"
	"github.com/eva-lora/eva/lora/inits"
)

// calibration is the stream of calibration batches of one problem, drawn on demand.
type calibration struct {
	p        *problem
	rng      *rand.Rand
	n        int
	xs, ress []*linalg.Dense
}

// batch returns calibration batch i, drawing the batches up to it.
func (c *calibration) batch(i int) (x, res *linalg.Dense, err error) {
	for len(c.xs) <= i {
		x, res, err := c.p.sample(c.rng, c.n)
		if err != nil {
			return nil, nil, err
		}
		c.xs, c.ress = append(c.xs, x), append(c.ress, res)
	}
	return c.xs[i], c.ress[i], nil
}

// stats estimates what CorDA (Cov = mean x·xᵀ) and LoRA-GA/LoRA-One (Grad = ∂L/∂W at W0, the mean of
// the batches' gradients) read, from the first nb calibration batches.
func (c *calibration) stats(nb int, cov, grad bool) (inits.Stats, error) {
	var st inits.Stats
	rows := 0
	for i := range nb {
		x, res, err := c.batch(i)
		if err != nil {
			return st, err
		}
		rows += x.Rows
		if cov {
			xx, err := linalg.TMul(x, x)
			if err != nil {
				return st, err
			}
			st.Cov = accumulate(st.Cov, xx)
		}
		if grad {
			// Batch loss (1/(n·out))·Σ‖e‖² with e = res for W0: ∂/∂W = (2/(n·out))·resᵀ·x.
			g, err := linalg.TMul(res, x)
			if err != nil {
				return st, err
			}
			scaleAll(g, 2/float64(x.Rows*res.Cols))
			st.Grad = accumulate(st.Grad, g)
		}
	}
	if st.Cov != nil {
		scaleAll(st.Cov, 1/float64(rows))
	}
	if st.Grad != nil {
		scaleAll(st.Grad, 1/float64(nb))
	}
	return st, nil
}

// evaA runs EVA (ρ = 1) on the calibration stream and returns A (r×d) and the batches it used.
func (c *calibration) evaA(r int, alpha float64, seed uint64, maxBatches int) (*linalg.Dense, int, time.Duration, error) {
	const layer = "synthetic"
	cfg := eva.DefaultConfig()
	cfg.R, cfg.Alpha, cfg.Rho, cfg.Seed, cfg.MaxBatches = r, alpha, 1, seed, maxBatches
	var spent time.Duration
	start := time.Now()
	run, err := eva.New(cfg, []eva.Layer{{Name: layer, In: c.p.d}})
	if err != nil {
		return nil, 0, 0, err
	}
	rows := make([]float32, c.n*c.p.d)
	for i := 0; !run.Done(); i++ {
		spent += time.Since(start)
		x, _, err := c.batch(i) // drawing the data is not part of the initialisation's cost
		if err != nil {
			return nil, 0, 0, err
		}
		start = time.Now()
		for j, v := range x.Data {
			rows[j] = float32(v)
		}
		if err := run.Observe(layer, rows, x.Rows); err != nil {
			return nil, 0, 0, err
		}
		if err := run.EndBatch(); err != nil {
			return nil, 0, 0, err
		}
	}
	st, err := run.Result()
	if err != nil {
		return nil, 0, 0, err
	}
	spent += time.Since(start)
	ls := st.Layers[0]
	if ls.Rank != r {
		return nil, 0, 0, fmt.Errorf("synthetic suite: EVA gave rank %d, want %d (ρ = 1)", ls.Rank, r)
	}
	a, err := linalg.Wrap(r, c.p.d, ls.A)
	return a, st.Batches, spent, err
}

// initialise computes method's adapter for rank r and returns it with its wall time (statistics
// included, drawing the data excluded) and the calibration batches EVA used.
func (c *calibration) initialise(cfg SyntheticConfig, method inits.Method, r int, seed uint64) (inits.Result, time.Duration, int, error) {
	if method.EVA() {
		a, batches, spent, err := c.evaA(r, cfg.Scale*float64(r), seed, cfg.EVAMaxBatches)
		if err != nil {
			return inits.Result{}, 0, 0, fmt.Errorf("eva: %w", err)
		}
		return inits.Result{A: a, B: linalg.NewDense(c.p.d, r)}, spent, batches, nil
	}
	cov, grad := method.Needs()
	if cov || grad {
		if _, _, err := c.batch(cfg.CalibBatches - 1); err != nil {
			return inits.Result{}, 0, 0, err
		}
	}
	start := time.Now()
	st, err := c.stats(cfg.CalibBatches, cov, grad)
	if err != nil {
		return inits.Result{}, 0, 0, err
	}
	res, err := inits.Init(method, c.p.w0, st, inits.Config{Rank: r, Scale: cfg.Scale, Layer: "synthetic", Seed: seed})
	if err != nil {
		return inits.Result{}, 0, 0, fmt.Errorf("%s: %w", method, err)
	}
	return res, time.Since(start), 0, nil
}
