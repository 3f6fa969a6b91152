// Package calib drives EVA's calibration: it runs a model forward (only as far as the layers still
// listening), hands each targeted layer's input rows to an eva.Run (padding never counts; with the
// label mask only tokens whose label is not -100 count), and repeats over the data until every layer
// has converged or the batch cap is reached.
package calib

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/internal/progress"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Options control a calibration run beyond EVA's own configuration.
type Options struct {
	// UseLabelMask counts only tokens whose label is not -100 (PEFT ≥ 0.20 semantics).
	UseLabelMask bool
	// Shuffle reorders the batches on every pass over the data (seeded by Seed); otherwise every pass
	// keeps file order, as PEFT's replay does.
	Shuffle bool
	Seed    uint64
	// Progress receives a status line per batch (nil = silent).
	Progress io.Writer
}

// Run calibrates EVA for the named target layers of m on batches and returns the state.
func Run(be tensor.Backend, m model.Model, batches []*data.Batch, targets []string, cfg eva.Config, opt Options) (*eva.State, error) {
	if len(batches) == 0 {
		return nil, errors.New("calibration: no data")
	}
	layers, byName, err := evaLayers(m, targets)
	if err != nil {
		return nil, err
	}
	run, err := eva.New(cfg, layers)
	if err != nil {
		return nil, err
	}
	hook := &capture{run: run, useLabels: opt.UseLabelMask}
	for _, l := range byName {
		l.Capture = hook
		defer func(l *nn.Linear) { l.Capture = nil }(l)
	}
	bar := progress.New(opt.Progress, "calibration batch", 0)
	defer bar.Done()
	order := make([]int, len(batches))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x63616c6962))
	for pass, n := 0, 0; ; pass++ {
		if opt.Shuffle {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		for _, bi := range order {
			if run.Done() {
				st, err := run.Result()
				if st != nil {
					st.LabelMask = opt.UseLabelMask
				}
				return st, err
			}
			listening := run.Listening()
			hook.listening = map[string]bool{}
			blocks := 0
			for _, name := range listening {
				hook.listening[name] = true
				l := byName[name]
				if l.Block < 0 {
					blocks = -1 // the output head listens: run the whole model
				} else if blocks >= 0 {
					blocks = max(blocks, l.Block+1)
				}
			}
			b := batches[bi]
			ctx := model.Context(be, b)
			if blocks > 0 {
				ctx.Blocks = blocks
			}
			if _, err := m.Forward(ctx, b); err != nil {
				return nil, fmt.Errorf("calibration batch %d: %w", bi, err)
			}
			if hook.err != nil {
				return nil, hook.err
			}
			if err := run.EndBatch(); err != nil {
				return nil, err
			}
			n++
			bar.Update(n, fmt.Sprintf("pass %d, %d of %d layers listening", pass+1, len(run.Listening()), len(layers)))
		}
		if err := checkFirstPass(run); err != nil {
			return nil, err
		}
	}
}

// checkFirstPass fails, after a whole pass over the data, when some layer has not been able to fit a
// single PCA step: every later pass would see the same batches, so waiting for the batch cap (as
// PEFT would, forever) cannot help.
func checkFirstPass(run *eva.Run) error {
	var starved []string
	for _, p := range run.Progress() {
		if p.Steps == 0 {
			starved = append(starved, p.Name)
		}
	}
	if len(starved) > 0 {
		return fmt.Errorf("calibration: after a full pass over the data, %q never received a batch with enough tokens for its rank "+
			"(use larger batches, more data, a lower --r or --rho, or --no-label-mask)", starved)
	}
	return nil
}

// evaLayers describes the targets to eva in module order, with their shared-input groups: a target
// shares with the first targeted layer of its architectural group.
func evaLayers(m model.Model, targets []string) ([]eva.Layer, map[string]*nn.Linear, error) {
	want := map[string]bool{}
	for _, t := range targets {
		want[t] = true
	}
	shared := m.SharedInputs()
	firstTargeted := map[string]string{} // architectural group head → first targeted member
	byName := map[string]*nn.Linear{}
	var layers []eva.Layer
	for _, l := range m.Linears() {
		if !want[l.Name] {
			continue
		}
		delete(want, l.Name)
		byName[l.Name] = l
		group := l.Name
		if g, ok := shared[l.Name]; ok {
			group = g
		}
		el := eva.Layer{Name: l.Name, In: l.In}
		if first, ok := firstTargeted[group]; ok {
			el.SharesInputWith = first
		} else {
			firstTargeted[group] = l.Name
		}
		layers = append(layers, el)
	}
	if len(want) > 0 {
		missing := slices.Sorted(maps.Keys(want))
		return nil, nil, fmt.Errorf("calibration: %q matches no Linear layer of the model", missing)
	}
	if len(layers) == 0 {
		return nil, nil, errors.New("calibration: no target layers")
	}
	return layers, byName, nil
}

// capture gathers the counted rows of each listening layer's input and hands them to eva.
type capture struct {
	run       *eva.Run
	useLabels bool
	listening map[string]bool
	rows      []float32
	err       error
}

// Observe implements nn.Capture.
func (c *capture) Observe(ctx *nn.Context, name string, x *tensor.Tensor) {
	if c.err != nil || !c.listening[name] {
		return
	}
	d := x.Dim(1)
	host := ctx.Backend.ToHost(x)
	c.rows = c.rows[:0]
	n := 0
	for i := 0; i < x.Dim(0); i++ {
		if ctx.Rows != nil && !ctx.Rows[i] {
			continue
		}
		if c.useLabels && ctx.Labels != nil && ctx.Labels[i] == data.IgnoreIndex {
			continue
		}
		c.rows = append(c.rows, host[i*d:(i+1)*d]...)
		n++
	}
	if err := c.run.Observe(name, c.rows, n); err != nil {
		c.err = err
	}
}
