package eva

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/eva-lora/eva/internal/pattern"
	"github.com/eva-lora/eva/linalg"
)

// Layer describes one target layer, given to New in module order.
type Layer struct {
	// Name is the module path, e.g. "model.layers.0.self_attn.q_proj".
	Name string
	// In is the layer's input width d (the length of one row).
	In int
	// SharesInputWith is "" or the name of the first layer (in module order) of the group of layers
	// that receive the identical input (q/k/v, gate/up). Only that first layer, the hook layer,
	// receives rows; the group shares its PCA.
	SharesInputWith string
}

// layer is a Layer with its resolved settings.
type layer struct {
	Layer
	r       int     // r_l from RankPattern or Config.R
	alpha   float64 // alpha_l from AlphaPattern or Config.Alpha
	maxRank int     // RoundToEven(r_l·rho), raised to the group maximum
	hook    *hook   // the hook of its group
}

// hook is the state of one hook layer: PEFT's SVDHook plus its entry in convergence_dict.
type hook struct {
	layer     int // index of the hook layer in Run.layers
	est       *estimator
	converged []bool        // per component: cosine with the previous step ≥ tau (all false until 2 steps)
	stopped   bool          // converged and unregistered: it no longer listens
	steps     int           // fitted steps
	skipped   int           // batches that brought fewer than k rows
	lastRows  int           // rows of the most recent Observe
	pending   []pendingRows // rows observed in this batch, fitted at EndBatch
}

// pendingRows is one Observe's copy of its rows.
type pendingRows struct {
	rows []float32
	n    int
}

// Run is one EVA calibration: feed it each batch's rows per listening layer (Observe), close every
// batch with EndBatch, and stop when Done; then take the Result. A Run is not safe for concurrent use;
// EndBatch fits the batch's layers side by side (linalg.Parallel) within a memory bound (fitMemory).
type Run struct {
	cfg     Config
	layers  []*layer       // module order
	index   map[string]int // name → position in layers
	hooks   []*hook        // hook layers in module order
	order   []int          // redistribution order: hook layers in module order, then the others by group
	budget  int            // Σ r_l
	ranks   []int          // current rank distribution, per layer (PEFT's rank_dist)
	batches int            // batches ended
	buffers sync.Pool      // *scratch, one per PCA step in flight
	// pendingBytes counts the rows queued since the last fit (float32 bytes).
	pendingBytes int64
}

// New validates cfg and the layers (module order) and starts a calibration. Errors wrap ErrConfig
// and name the offending layer.
func New(cfg Config, layers []Layer) (*Run, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: no target layers", ErrConfig)
	}
	rankPat, err := pattern.Compile("rank pattern", cfg.RankPattern)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	alphaPat, err := pattern.Compile("alpha pattern", cfg.AlphaPattern)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	cfg.RankPattern, cfg.AlphaPattern = maps.Clone(cfg.RankPattern), maps.Clone(cfg.AlphaPattern)
	run := &Run{cfg: cfg, index: make(map[string]int, len(layers))}
	for i, l := range layers {
		rl, err := run.addLayer(i, l, rankPat, alphaPat)
		if err != nil {
			return nil, err
		}
		run.layers = append(run.layers, rl)
	}
	// A group's layers all get the group's largest component count.
	for _, l := range run.layers {
		h := run.layers[l.hook.layer]
		h.maxRank = max(h.maxRank, l.maxRank)
	}
	for _, l := range run.layers {
		l.maxRank = run.layers[l.hook.layer].maxRank
		if l.maxRank > l.In {
			return nil, fmt.Errorf("%w: layer %s: %d components (its group's round(r·rho)) exceed its input width %d",
				ErrConfig, l.Name, l.maxRank, l.In)
		}
	}
	run.buffers.New = func() any { return &scratch{} }
	for _, h := range run.hooks {
		hl := run.layers[h.layer]
		h.est = newEstimator(cfg.mode(), hl.maxRank, hl.In, cfg.Seed)
		h.converged = make([]bool, hl.maxRank)
	}
	run.order = redistributionOrder(run.layers)
	run.ranks = make([]int, len(run.layers))
	for i, l := range run.layers {
		run.ranks[i] = l.maxRank
		run.budget += l.r
	}
	run.updateListening()
	return run, nil
}

// addLayer validates layer i and resolves its settings; hook layers get a hook.
func (run *Run) addLayer(i int, l Layer, rankPat *pattern.Pattern[int], alphaPat *pattern.Pattern[float64]) (*layer, error) {
	switch {
	case l.Name == "":
		return nil, fmt.Errorf("%w: layer %d has an empty name", ErrConfig, i)
	case l.In < 1:
		return nil, fmt.Errorf("%w: layer %s: input width %d, want ≥ 1", ErrConfig, l.Name, l.In)
	}
	if _, dup := run.index[l.Name]; dup {
		return nil, fmt.Errorf("%w: layer %s listed twice", ErrConfig, l.Name)
	}
	r, err := rankPat.Lookup(l.Name, run.cfg.R)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	alpha, err := alphaPat.Lookup(l.Name, run.cfg.Alpha)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	rl := &layer{Layer: l, r: r, alpha: alpha, maxRank: maxComponents(r, run.cfg.Rho)}
	if rl.maxRank > l.In {
		return nil, fmt.Errorf("%w: layer %s: round(r·rho) = round(%d·%g) = %d exceeds its input width %d",
			ErrConfig, l.Name, r, run.cfg.Rho, rl.maxRank, l.In)
	}
	if l.SharesInputWith == "" {
		rl.hook = &hook{layer: i}
		run.hooks = append(run.hooks, rl.hook)
	} else {
		j, ok := run.index[l.SharesInputWith]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: layer %s shares its input with %q, which is not an earlier layer", ErrConfig, l.Name, l.SharesInputWith)
		case run.layers[j].SharesInputWith != "":
			return nil, fmt.Errorf("%w: layer %s shares its input with %s, which is not the first layer of its group (that is %s)",
				ErrConfig, l.Name, l.SharesInputWith, run.layers[j].SharesInputWith)
		case run.layers[j].In != l.In:
			return nil, fmt.Errorf("%w: layer %s (input width %d) shares its input with %s (input width %d)",
				ErrConfig, l.Name, l.In, l.SharesInputWith, run.layers[j].In)
		}
		rl.hook = run.layers[j].hook
	}
	run.index[l.Name] = i
	return rl, nil
}

// redistributionOrder is PEFT's layer_hook_map order: hook layers in module order, then the other
// members of each group, groups in the order of their hook layers and members in module order.
func redistributionOrder(layers []*layer) []int {
	var order, dups []int
	for i, l := range layers {
		if l.hook.layer == i {
			order = append(order, i)
		}
	}
	for _, h := range order {
		for i, l := range layers {
			if l.hook.layer == h && i != h {
				dups = append(dups, i)
			}
		}
	}
	return append(order, dups...)
}

// Listening returns the hook layers (module order) that must receive rows in the next batch.
func (run *Run) Listening() []string {
	var names []string
	for _, h := range run.hooks {
		if !h.stopped {
			names = append(names, run.layers[h.layer].Name)
		}
	}
	return names
}

// Done reports whether every hook layer has converged, which ends the calibration. Like PEFT, it is
// decided before a batch, from the convergence of each layer's currently assigned components.
func (run *Run) Done() bool {
	for _, h := range run.hooks {
		if !h.stopped {
			return false
		}
	}
	return true
}

// Batches returns the number of batches ended so far.
func (run *Run) Batches() int { return run.batches }

// LayerProgress is one hook layer's calibration status, for progress logs.
type LayerProgress struct {
	Name      string
	Listening bool  // it still receives rows
	Steps     int   // PCA steps so far
	Samples   int64 // rows absorbed
	Rank      int   // rank currently assigned (the hook layer's: the most in its group)
	Converged int   // leading components whose cosine with the previous step reached tau
}

// Progress reports every hook layer's status, in module order.
func (run *Run) Progress() []LayerProgress {
	out := make([]LayerProgress, len(run.hooks))
	for i, h := range run.hooks {
		done := 0
		for done < len(h.converged) && h.converged[done] {
			done++
		}
		out[i] = LayerProgress{Name: run.layers[h.layer].Name, Listening: !h.stopped, Steps: h.steps,
			Samples: h.est.seen, Rank: run.ranks[h.layer], Converged: done}
	}
	return out
}

// Observe feeds n rows of the named hook layer's input for the current batch: rows holds n·In
// values, row-major, already masked to the tokens that count; EndBatch runs the incremental PCA
// step on them (every layer's of the batch side by side) and updates the layer's convergence. A
// batch of fewer rows than the layer's component count is skipped, as PEFT does (Covariance mode
// keeps the rows and steps once it has enough). Observing a layer twice in one batch runs two steps,
// as PEFT's hook would for a module called twice. The error names the layer: an unknown or
// non-listening layer, a wrong length, a NaN or ±Inf value, or a failed PCA step (EndBatch's, or
// Observe's when the queued rows reached their memory bound and ran early). rows is copied, not
// retained.
func (run *Run) Observe(name string, rows []float32, n int) error {
	i, ok := run.index[name]
	if !ok {
		return fmt.Errorf("eva: observe %s: not a target layer", name)
	}
	l := run.layers[i]
	h := l.hook
	switch {
	case h.layer != i:
		return fmt.Errorf("eva: observe %s: it shares its input with %s, which receives the rows", name, run.layers[h.layer].Name)
	case h.stopped:
		return fmt.Errorf("eva: observe %s: the layer has converged and is not listening", name)
	case n < 0 || len(rows) != n*l.In:
		return fmt.Errorf("eva: observe %s: %d values for %d rows of width %d", name, len(rows), n, l.In)
	}
	if err := checkFinite(rows, l.In); err != nil {
		return fmt.Errorf("eva: observe %s: %w", name, err)
	}
	h.lastRows = n
	h.pending = append(h.pending, pendingRows{rows: slices.Clone(rows), n: n})
	if run.pendingBytes += 4 * int64(len(rows)); run.pendingBytes > fitMemory/4 {
		return run.fitPending()
	}
	return nil
}

// step runs the hook's pending PCA steps in order and updates its convergence.
func (run *Run) step(h *hook, env stepEnv) error {
	defer func() { h.pending = nil }()
	for _, p := range h.pending {
		prev := h.est.components
		stepped, err := h.est.fit(env, p.rows, p.n)
		if err != nil {
			return fmt.Errorf("eva: observe %s: %w", run.layers[h.layer].Name, err)
		}
		if !stepped {
			h.skipped++
			continue
		}
		h.steps++
		if prev != nil {
			for c, cos := range cosines(h.est.components, prev) {
				h.converged[c] = cos >= run.cfg.Tau
			}
		}
	}
	return nil
}

// fitMemory bounds what a batch's PCA steps hold at once: rows queued by Observe (a flush runs them
// once a quarter of it is queued) and, for steps running side by side, each step's working matrices.
// A large model's steps (a 7B model's down_proj: 8192 rows × 11008 inputs) then run one at a time on
// every core, as they would without the queue. A variable so that tests can shrink it.
var fitMemory int64 = 1 << 30

// stepBytes estimates the memory of one step on n rows: the stacked (k+n+1)×d float64 matrix and
// about as much again twice over inside the factorisation.
func stepBytes(h *hook, n int) int64 {
	return 3 * 8 * int64(h.est.k+n+1) * int64(h.est.d)
}

// fitPending runs every hook's pending steps: side by side when their memory allows, else one after
// another on every core.
func (run *Run) fitPending() error {
	var busy []*hook
	var largest int64
	for _, h := range run.hooks {
		for _, p := range h.pending {
			largest = max(largest, stepBytes(h, p.n))
		}
		if len(h.pending) > 0 {
			busy = append(busy, h)
		}
	}
	run.pendingBytes = 0
	return linalg.Parallel(len(busy), max(1, int(fitMemory/max(largest, 1))), func(i int, s linalg.Solver) error {
		buf := run.buffers.Get().(*scratch)
		defer run.buffers.Put(buf)
		return run.step(busy[i], stepEnv{solver: s, buf: buf})
	})
}

// checkFinite reports the first NaN or ±Inf among rows of width d.
func checkFinite(rows []float32, d int) error {
	for idx, v := range rows {
		if v-v != 0 { // NaN for NaN and ±Inf, 0 for every finite value: one subtraction, no branch on the kind
			return fmt.Errorf("row %d column %d is %v", idx/d, idx%d, v)
		}
	}
	return nil
}

// EndBatch closes a batch (one forward pass): it runs the batch's PCA steps, then, once every hook
// layer has fitted at least once, it
// redistributes the ranks from the latest explained variance ratios, then stops the hook layers
// whose assigned components have converged and restarts those given more components than have
// converged. It returns an error when the batch cap is reached before Done, naming the layers that
// have not converged or never received enough rows.
func (run *Run) EndBatch() error {
	if err := run.fitPending(); err != nil {
		return err
	}
	run.batches++
	if run.allFitted() {
		run.ranks = run.redistribute()
	}
	run.updateListening()
	if run.Done() || run.batches < run.cfg.maxBatches() {
		return nil
	}
	return run.notConvergedError()
}

// allFitted reports whether every hook has completed at least one step.
func (run *Run) allFitted() bool {
	for _, h := range run.hooks {
		if !h.est.fitted() {
			return false
		}
	}
	return true
}

// updateListening is the convergence bookkeeping PEFT runs before each forward pass: a listening
// hook whose assigned components (its rank_dist prefix) have all converged stops; a stopped hook
// whose assignment grew beyond its converged prefix listens again and resumes its PCA.
func (run *Run) updateListening() {
	for _, h := range run.hooks {
		h.stopped = allTrue(h.converged[:run.ranks[h.layer]])
	}
}

func allTrue(flags []bool) bool {
	for _, f := range flags {
		if !f {
			return false
		}
	}
	return true
}

// notConvergedError describes every hook layer still listening after the batch cap.
func (run *Run) notConvergedError() error {
	var parts []string
	for i, h := range run.hooks {
		if h.stopped {
			continue
		}
		l := run.layers[h.layer]
		switch {
		case !h.est.fitted() && run.cfg.mode() == Covariance:
			parts = append(parts, fmt.Sprintf("%s never received enough rows (%d rows seen, %d components)", l.Name, h.est.seen, h.est.k))
		case !h.est.fitted():
			parts = append(parts, fmt.Sprintf("%s never received enough rows (%d components need ≥ %d rows in one batch; %d batches were skipped, the last with %d rows)",
				l.Name, h.est.k, h.est.k, h.skipped, h.lastRows))
		default:
			p := run.Progress()[i]
			parts = append(parts, fmt.Sprintf("%s not converged after %d steps (rank %d; leading converged components %d)",
				l.Name, p.Steps, p.Rank, p.Converged))
		}
	}
	return fmt.Errorf("eva: %w after %d batches: %s", ErrNotConverged, run.batches, strings.Join(parts, "; "))
}

// ErrNotConverged is wrapped by the error EndBatch returns at the batch cap, and by Result before
// the calibration is done.
var ErrNotConverged = errors.New("calibration did not converge")
