package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/eva-lora/eva/calib"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/internal/pattern"
	"github.com/eva-lora/eva/linalg"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/peft"
	"github.com/eva-lora/eva/tensor"
)

// Metadata keys eva writes into an adapter's safetensors header.
const (
	// MetaInit names the initialisation method.
	MetaInit = "eva.init"
	// MetaOffset is "true" when the method rewrote the base weight as W − s·B₀·A₀ (the adapter then
	// holds B₀, A₀ for that residual base; the final adapter is converted back, see Adapters.Write).
	MetaOffset = "eva.offset"
	// MetaConverted says that an adapter was rewritten against the original base weight.
	MetaConverted = "eva.converted"
)

// InitSpec says how to initialise adapters.
type InitSpec struct {
	// Method is the initialisation (inits.Parse names).
	Method inits.Method
	// Targets are the module names to adapt.
	Targets []string
	// R and Alpha are the rank and lora_alpha; RSLoRA scales by alpha/√r.
	R      int
	Alpha  float64
	RSLoRA bool
	// RankPattern and AlphaPattern override R and Alpha per layer (PEFT's rank_pattern and
	// alpha_pattern: a key matches a module name when ^(.*\.)?(key)$ does).
	RankPattern  map[string]int
	AlphaPattern map[string]float64
	// DoRA adds a magnitude vector, initialised to the row norms of the (possibly offset) weight
	// plus the initial update, so the output is unchanged when the init is.
	DoRA bool
	// Dropout is the adapters' dropout probability.
	Dropout float64
	// Seed drives random inits and randomized SVDs.
	Seed uint64
	// EVA configures EVA (R, Alpha and Seed are taken from the fields above); State, when set, is
	// reused instead of calibrating.
	EVA      eva.Config
	EVAState *eva.State
	// UseLabelMask counts only labelled tokens in EVA's calibration.
	UseLabelMask bool
	// Calibration holds the batches EVA and the statistics of the other data-driven methods run on.
	Calibration []*data.Batch
	// Population is the training-set size (LoRA-DA's variance term).
	Population int
	// BaseModel is recorded as base_model_name_or_path.
	BaseModel string
	// Log receives progress (nil = silent).
	Log io.Writer
}

// Adapters are the adapters of a training run with what is needed to save them for the original
// base model.
type Adapters struct {
	// List holds the attached adapters in module order.
	List []*lora.Adapter
	// Config is the PEFT configuration the adapters are written with.
	Config peft.Config
	// Initial holds the step-0 adapter values.
	Initial []peft.Layer
	// Offset is true when the base weights were rewritten as W − s·B₀·A₀.
	Offset bool
	// EVAState is the EVA state when the method was EVA.
	EVAState *eva.State
}

// Initialise computes the initial adapters of spec for the model's target layers, attaches them
// and, for methods that offset the base weight, rewrites those weights.
func Initialise(be tensor.Backend, m model.Model, spec InitSpec) (*Adapters, error) {
	if spec.R < 1 {
		return nil, fmt.Errorf("init: r = %d, want ≥ 1", spec.R)
	}
	if spec.Alpha == 0 || math.IsNaN(spec.Alpha) || math.IsInf(spec.Alpha, 0) {
		return nil, fmt.Errorf("init: alpha %v must be finite and non-zero", spec.Alpha)
	}
	if spec.DoRA && spec.Method.Offsets() {
		return nil, fmt.Errorf("init: DoRA with %s is not supported: the adapter could not be written for the original base weight", spec.Method)
	}
	c := peft.Config{BaseModel: spec.BaseModel, R: spec.R, Alpha: spec.Alpha, RSLoRA: spec.RSLoRA, DoRA: spec.DoRA,
		Dropout: spec.Dropout, Metadata: map[string]string{MetaInit: spec.Method.String()}}
	var layers []peft.Layer
	var st *eva.State
	var err error
	if spec.Method.EVA() {
		c, layers, st, err = evaLayers(be, m, spec, c)
	} else {
		layers, err = computedLayers(be, m, spec)
	}
	if err != nil {
		return nil, err
	}
	for _, l := range m.Linears() {
		c.FanInFanOut = c.FanInFanOut || (l.FanInFanOut && contains(spec.Targets, l.Name))
	}
	a := &Adapters{Config: c, Initial: layers, Offset: spec.Method.Offsets(), EVAState: st}
	a.Config.DoRA = false // the magnitudes come from the attached adapters
	if err := a.attach(be, m); err != nil {
		return nil, err
	}
	if spec.DoRA {
		for _, ad := range a.List {
			ad.InitMagnitude(be)
		}
		a.Config.DoRA = true
		a.Initial = peft.Layers(be, a.List)
	}
	return a, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// evaLayers calibrates EVA (or reuses a state) and returns its adapter layers.
func evaLayers(be tensor.Backend, m model.Model, spec InitSpec, c peft.Config) (peft.Config, []peft.Layer, *eva.State, error) {
	st := spec.EVAState
	if st == nil {
		cfg := spec.EVA
		cfg.R, cfg.Alpha, cfg.Seed = spec.R, spec.Alpha, spec.Seed
		cfg.RankPattern, cfg.AlphaPattern = spec.RankPattern, spec.AlphaPattern
		if len(spec.Calibration) == 0 {
			return c, nil, nil, errors.New("init eva: no calibration data")
		}
		var err error
		st, err = calib.Run(be, m, spec.Calibration, spec.Targets, cfg,
			calib.Options{UseLabelMask: spec.UseLabelMask, Seed: spec.Seed, Progress: spec.Log})
		if err != nil {
			return c, nil, nil, err
		}
	}
	ec, layers, err := peft.FromEVA(st, m.Linears(), spec.BaseModel)
	if err != nil {
		return c, nil, nil, err
	}
	ec.RSLoRA, ec.DoRA, ec.Dropout, ec.Metadata = spec.RSLoRA, spec.DoRA, spec.Dropout, c.Metadata
	return ec, layers, st, nil
}

// computedLayers runs a method of package inits on every target layer, collecting the data
// statistics it needs first.
func computedLayers(be tensor.Backend, m model.Model, spec InitSpec) ([]peft.Layer, error) {
	needCov, needGrad := spec.Method.Needs()
	var stats *calib.Statistics
	if needCov || needGrad || spec.Method.NeedsOutGradSq() {
		if len(spec.Calibration) == 0 {
			return nil, fmt.Errorf("init %s: no calibration data for its statistics", spec.Method)
		}
		batches := spec.Calibration
		if spec.Method.NeedsOutGradSq() {
			batches = singles(batches) // LoRA-DA's Fisher samples are backpropagated one at a time
		}
		var err error
		stats, err = calib.Collect(be, m, batches, spec.Targets,
			calib.StatsOptions{Cov: needCov, Grad: needGrad, OutGradSq: spec.Method.NeedsOutGradSq(), Progress: spec.Log})
		if err != nil {
			return nil, fmt.Errorf("init %s: %w", spec.Method, err)
		}
	}
	rankPat, err := pattern.Compile("rank pattern", spec.RankPattern)
	if err != nil {
		return nil, err
	}
	alphaPat, err := pattern.Compile("alpha pattern", spec.AlphaPattern)
	if err != nil {
		return nil, err
	}
	byName := map[string]*nn.Linear{}
	for _, l := range m.Linears() {
		byName[l.Name] = l
	}
	// Check every target and settle its rank and scale first, then factorise the layers side by side.
	jobs := make([]layerJob, len(spec.Targets))
	var largest int64
	for i, name := range spec.Targets {
		l, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("init: %s is not a Linear layer of the model", name)
		}
		var st inits.Stats
		if stats != nil {
			st = inits.Stats{Cov: stats.Cov[name], Grad: stats.Grad[name], OutGradSq: stats.OutGradSq[name]}
		}
		r, err := rankPat.Lookup(name, spec.R)
		if err != nil {
			return nil, err
		}
		alpha, err := alphaPat.Lookup(name, spec.Alpha)
		if err != nil {
			return nil, err
		}
		if r < 1 {
			return nil, fmt.Errorf("init: rank pattern gives %s rank %d, want ≥ 1", name, r)
		}
		jobs[i] = layerJob{name: name, l: l, r: r, alpha: alpha, st: st}
		largest = max(largest, initMemory(l.Out, l.In))
	}
	covCache := &inits.CovCache{} // layers with one input share one covariance matrix
	order := covarianceFirst(jobs)
	layers := make([]peft.Layer, len(jobs))
	err = sideBySide(len(jobs), int(initParallelMemory/max(largest, 1)), func(k int, sol linalg.Solver) error {
		i := order[k]
		layer, err := jobs[i].run(be, spec, stats, covCache, sol)
		layers[i] = layer
		return err
	})
	if err != nil {
		return nil, err
	}
	return layers, nil
}

// layerJob is one target layer of computedLayers with its rank, alpha and statistics.
type layerJob struct {
	name  string
	l     *nn.Linear
	r     int
	alpha float64
	st    inits.Stats
}

// run computes the layer's initial adapter on sol.
func (j layerJob) run(be tensor.Backend, spec InitSpec, stats *calib.Statistics, covCache *inits.CovCache, sol linalg.Solver) (peft.Layer, error) {
	w, err := linalg.Wrap(j.l.Out, j.l.In, to64(be.ToHost(j.l.W)))
	if err != nil {
		return peft.Layer{}, err
	}
	st := j.st
	if spec.Method.String() == "lora-ga" && st.Grad != nil {
		// PEFT's preprocess_loraga sums the batches' gradients instead of averaging them, and its
		// "stable" scale depends on that magnitude.
		g := st.Grad.Clone()
		for k := range g.Data {
			g.Data[k] *= float64(stats.Batches)
		}
		st.Grad = g
	}
	scale := j.alpha / float64(j.r)
	if spec.RSLoRA {
		scale = j.alpha / math.Sqrt(float64(j.r))
	}
	cfg := inits.Config{Rank: j.r, Scale: scale, Layer: j.name, Seed: spec.Seed, CovCache: covCache, Solver: sol}
	if spec.Method.NeedsOutGradSq() {
		o := inits.DefaultLoRADAOptions()
		o.Population = max(spec.Population, 1)
		cfg.LoRADA = &o
	}
	res, err := inits.Init(spec.Method, w, st, cfg)
	if err != nil {
		return peft.Layer{}, fmt.Errorf("init %s of %s: %w", spec.Method, j.name, err)
	}
	return peft.Layer{Module: j.name, Rank: j.r, In: j.l.In, Out: j.l.Out,
		A: to32(res.A.Data), B: to32(res.B.Data), Alpha: j.alpha}, nil
}

// covarianceFirst orders the jobs so that the first layer of each covariance matrix comes first:
// CorDA's derivations from the shared matrices then run side by side instead of the layers that
// share one waiting for each other.
func covarianceFirst(jobs []layerJob) []int {
	var first, rest []int
	seen := map[*linalg.Dense]bool{}
	for i, j := range jobs {
		if j.st.Cov != nil && !seen[j.st.Cov] {
			seen[j.st.Cov] = true
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	return append(first, rest...)
}

// initParallelMemory bounds what the layers factorised side by side hold at once (initMemory
// each): a small model's layers run one per core, each on one OpenBLAS thread — on 2 cores
// OpenBLAS's SVD of a 4096 × 768 matrix took 1.3× longer on both cores than on one
// (BenchmarkSVD4096x768) — while a 7B model's (~3 GiB each) run one at a time on every core
// (see sideBySide).
var initParallelMemory int64 = 2 << 30

// sideBySide runs do(i, s) for i = 0…n−1 through linalg.Parallel with up to workers at a time on
// one OpenBLAS thread each when that keeps at least half the cores busy, else one after another on
// every core, so that a large model's layers on a many-core machine keep OpenBLAS's threads.
func sideBySide(n, workers int, do func(i int, s linalg.Solver) error) error {
	if workers < runtime.GOMAXPROCS(0)/2 {
		workers = 1
	}
	return linalg.Parallel(n, max(1, workers), do)
}

// initMemory estimates the float64 working memory of one layer's init: the weight, its SVD's factors
// and workspace and a gradient of the same size, and an in × in covariance matrix.
func initMemory(out, in int) int64 {
	return 8 * (5*int64(out)*int64(in) + int64(in)*int64(in))
}

// singles splits batches into one-sequence batches trimmed to each sequence's length.
func singles(batches []*data.Batch) []*data.Batch {
	var out []*data.Batch
	for _, b := range batches {
		for i := range b.B {
			n := int(b.Lengths[i])
			s := &data.Batch{B: 1, S: n, IDs: b.IDs[i*b.S : i*b.S+n], Lengths: []int32{int32(n)}}
			if b.Labels != nil {
				s.Labels = b.Labels[i*b.S : i*b.S+n]
			}
			out = append(out, s)
		}
	}
	return out
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// attach puts the initial layers onto the model and applies the offset, in float32 from the
// float32 initial values, so that Reattach reproduces the weights bit for bit.
func (a *Adapters) attach(be tensor.Backend, m model.Model) error {
	ads, err := peft.Attach(be, m.Linears(), a.Config, a.Initial)
	if err != nil {
		return err
	}
	a.List = ads
	if a.Offset {
		for _, ad := range ads {
			be.Gemm(false, false, -ad.Scale(), ad.B, ad.A, 1, ad.Layer().W)
		}
	}
	return nil
}

// SaveInitial writes the step-0 adapter to dir as a PEFT adapter whose metadata records the method
// and whether it offsets the base weight (Reattach reads it back).
func (a *Adapters) SaveInitial(dir string) error {
	c := a.Config
	c.Metadata = map[string]string{MetaOffset: strconv.FormatBool(a.Offset)}
	for k, v := range a.Config.Metadata {
		c.Metadata[k] = v
	}
	return peft.Save(dir, c, a.Initial)
}

// Reattach restores the step-0 adapters that SaveInitial wrote to dir onto a freshly loaded model,
// offsetting the base weights again when the method did.
func Reattach(be tensor.Backend, m model.Model, dir string) (*Adapters, error) {
	c, layers, err := peft.Load(dir)
	if err != nil {
		return nil, err
	}
	a := &Adapters{Config: c, Initial: layers, Offset: c.Metadata[MetaOffset] == "true"}
	delete(a.Config.Metadata, MetaOffset)
	if err := a.attach(be, m); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return a, nil
}

// Continue attaches an existing PEFT adapter for further training (no offset: a saved adapter is
// always relative to the original base weight).
func Continue(be tensor.Backend, m model.Model, dir string) (*Adapters, error) {
	c, layers, err := peft.Load(dir)
	if err != nil {
		return nil, err
	}
	c.Metadata = map[string]string{MetaInit: "continued:" + filepath.Base(filepath.Clean(dir))}
	a := &Adapters{Config: c, Initial: layers}
	if err := a.attach(be, m); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return a, nil
}

// Write saves the current adapters into dir (which must exist) as a PEFT adapter for the ORIGINAL
// base model: when the method offset the base weight, the trained update minus the initial one is
// rewritten as a rank-2r adapter (peft.AgainstOriginalBase) and the metadata says so.
func (a *Adapters) Write(be tensor.Backend, dir string) error {
	c, layers := a.Config, peft.Layers(be, a.List)
	if a.Offset {
		var err error
		if c, layers, err = peft.AgainstOriginalBase(c, layers, a.Initial); err != nil {
			return err
		}
		c.Metadata = map[string]string{MetaConverted: "rank-2r delta against the original base weight"}
		for k, v := range a.Config.Metadata {
			c.Metadata[k] = v
		}
	}
	return peft.WriteFiles(dir, c, layers)
}
