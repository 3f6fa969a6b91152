package train

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/eva-lora/eva/tensor"
)

// Param is one trainable tensor and its gradient buffer, which the model's backward pass fills.
type Param struct {
	// Name is the parameter's unique name (PEFT's, e.g. "model.layers.0.self_attn.q_proj.lora_B.weight").
	Name string
	// Value is updated in place by the optimizer; Grad has the same number of elements.
	Value, Grad *tensor.Tensor
}

// ParamGroup is a set of parameters that share a learning-rate multiplier and a weight-decay switch,
// like one entry of a PyTorch optimizer's param_groups.
type ParamGroup struct {
	// Name labels the group in messages ("A", "B", "B_no_decay", "decay", ...).
	Name string
	// LRScale multiplies the scheduled learning rate for this group (LoRA+ sets B's to the ratio).
	LRScale float64
	// WeightDecay applies the optimizer's decoupled weight decay to the group when true.
	WeightDecay bool
	// Params are the group's parameters.
	Params []Param
}

// AdamWConfig holds AdamW's hyperparameters. The learning rate comes with each Step.
type AdamWConfig struct {
	Beta1, Beta2 float64
	Eps          float64
	// WeightDecay is λ of the decoupled decay p ← p·(1 − lr·λ), applied to groups that ask for it.
	WeightDecay float64
}

// DefaultAdamW returns Hugging Face TrainingArguments' defaults: β = (0.9, 0.999), eps 1e-8 and no
// weight decay (torch.optim.AdamW on its own defaults to λ = 0.01).
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Validate reports a hyperparameter outside the range torch.optim.AdamW accepts.
func (c AdamWConfig) Validate() error {
	switch {
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("adamw: beta1 %v outside [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("adamw: beta2 %v outside [0, 1)", c.Beta2)
	case !(c.Eps >= 0) || math.IsInf(c.Eps, 1):
		return fmt.Errorf("adamw: eps %v must be finite and ≥ 0", c.Eps)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 1):
		return fmt.Errorf("adamw: weight decay %v must be finite and ≥ 0", c.WeightDecay)
	}
	return nil
}

// ErrNonFiniteGrad is wrapped by the error ClipGradNorm and ClipAndStep return when the global
// gradient norm is NaN or infinite; no parameter has been changed then.
var ErrNonFiniteGrad = errors.New("gradient norm is not finite")

// AdamW is torch.optim.AdamW over parameter groups, with global-norm gradient clipping as
// torch.nn.utils.clip_grad_norm_ does it. The moment buffers live on the parameters' backend and
// are allocated (zero) when the optimizer is made. One AdamW serves one goroutine at a time.
type AdamW struct {
	be     tensor.Backend
	cfg    AdamWConfig
	groups []ParamGroup
	m, v   []*tensor.Tensor // one per parameter, in group order
	step   int              // updates applied so far
}

// NewAdamW checks the groups (unique names, a gradient of the value's size for every parameter, a
// positive finite LRScale) and allocates zero moments for every parameter on be.
func NewAdamW(be tensor.Backend, groups []ParamGroup, cfg AdamWConfig) (*AdamW, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &AdamW{be: be, cfg: cfg}
	seen := map[string]bool{}
	for _, g := range groups {
		if !(g.LRScale > 0) || math.IsInf(g.LRScale, 1) {
			return nil, fmt.Errorf("adamw: group %q: learning-rate scale %v must be finite and > 0", g.Name, g.LRScale)
		}
		for _, p := range g.Params {
			switch {
			case p.Name == "":
				return nil, fmt.Errorf("adamw: group %q: a parameter has no name", g.Name)
			case seen[p.Name]:
				return nil, fmt.Errorf("adamw: parameter %s appears twice (group %q)", p.Name, g.Name)
			case p.Value == nil || p.Grad == nil:
				return nil, fmt.Errorf("adamw: parameter %s has no value or no gradient buffer", p.Name)
			case p.Grad.Len() != p.Value.Len():
				return nil, fmt.Errorf("adamw: parameter %s: gradient %v does not match value %v", p.Name, p.Grad.Shape(), p.Value.Shape())
			}
			seen[p.Name] = true
			o.m = append(o.m, be.Zeros(p.Value.Shape()...))
			o.v = append(o.v, be.Zeros(p.Value.Shape()...))
		}
		g.Params = slices.Clone(g.Params)
		o.groups = append(o.groups, g)
	}
	return o, nil
}

// Config returns the optimizer's hyperparameters.
func (o *AdamW) Config() AdamWConfig { return o.cfg }

// Groups returns the parameter groups (the caller must not modify them).
func (o *AdamW) Groups() []ParamGroup { return o.groups }

// Steps returns the number of updates applied so far (PyTorch's state["step"]).
func (o *AdamW) Steps() int { return o.step }

// each calls f for every parameter with its group and its index into o.m and o.v.
func (o *AdamW) each(f func(g *ParamGroup, p Param, i int)) {
	i := 0
	for gi := range o.groups {
		g := &o.groups[gi]
		for _, p := range g.Params {
			f(g, p, i)
			i++
		}
	}
}

// ZeroGrad sets every gradient buffer to zero (backward passes accumulate into them).
func (o *AdamW) ZeroGrad() {
	o.each(func(_ *ParamGroup, p Param, _ int) { o.be.Fill(p.Grad, 0) })
}

// GradNorm returns the global L2 norm of all gradients, √(Σ over parameters of Σ g²), accumulated
// in float64.
func (o *AdamW) GradNorm() float64 {
	ss := 0.0
	o.each(func(_ *ParamGroup, p Param, _ int) { ss += o.be.SumSquares(p.Grad) })
	return math.Sqrt(ss)
}

// ClipGradNorm returns the global gradient norm before clipping and, when maxNorm > 0 and the norm
// exceeds it, scales every gradient by maxNorm/(norm + 1e-6), as torch.nn.utils.clip_grad_norm_
// does (PyTorch computes the norm in float32, eva in float64: the two agree to float32 rounding).
// maxNorm ≤ 0 only measures. When the norm is NaN or infinite, ClipGradNorm changes nothing and
// returns an error wrapping ErrNonFiniteGrad that names the offending parameters.
func (o *AdamW) ClipGradNorm(maxNorm float64) (float64, error) {
	ss := 0.0
	var bad []string
	o.each(func(_ *ParamGroup, p Param, _ int) {
		s := o.be.SumSquares(p.Grad)
		if math.IsNaN(s) || math.IsInf(s, 0) {
			bad = append(bad, p.Name)
		}
		ss += s
	})
	norm := math.Sqrt(ss)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, nonFinite(norm, bad)
	}
	if coef := maxNorm / (norm + 1e-6); maxNorm > 0 && coef < 1 {
		o.each(func(_ *ParamGroup, p Param, _ int) { o.be.Scale(p.Grad, float32(coef)) })
	}
	return norm, nil
}

// nonFinite builds the error for a non-finite gradient norm, naming at most three parameters.
func nonFinite(norm float64, bad []string) error {
	where := ""
	switch {
	case len(bad) > 3:
		where = fmt.Sprintf(" (in %s and %d more)", strings.Join(bad[:3], ", "), len(bad)-3)
	case len(bad) > 0:
		where = fmt.Sprintf(" (in %s)", strings.Join(bad, ", "))
	default:
		where = " (the sum of squares overflowed)"
	}
	return fmt.Errorf("%w: %v%s", ErrNonFiniteGrad, norm, where)
}

// Step applies one AdamW update with learning rate lr·LRScale to every group (weight decay only
// where the group asks for it). It does not look at the gradients: call ClipGradNorm first, or use
// ClipAndStep. lr must be finite and ≥ 0.
func (o *AdamW) Step(lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 1) {
		return fmt.Errorf("adamw: learning rate %v must be finite and ≥ 0", lr)
	}
	o.step++
	o.each(func(g *ParamGroup, p Param, i int) {
		wd := 0.0
		if g.WeightDecay {
			wd = o.cfg.WeightDecay
		}
		o.be.AdamW(p.Value, p.Grad, o.m[i], o.v[i], lr*g.LRScale, o.cfg.Beta1, o.cfg.Beta2, o.cfg.Eps, wd, o.step)
	})
	return nil
}

// ClipAndStep clips the gradients to maxNorm (maxNorm ≤ 0: no clipping) and applies one update. It
// returns the pre-clip global norm. When that norm is not finite it returns an error wrapping
// ErrNonFiniteGrad before touching any parameter, moment or the step count, so the training loop
// can stop (or skip the batch) with the last good state intact.
func (o *AdamW) ClipAndStep(lr, maxNorm float64) (float64, error) {
	if !(lr >= 0) || math.IsInf(lr, 1) {
		return math.NaN(), fmt.Errorf("adamw: learning rate %v must be finite and ≥ 0", lr)
	}
	norm, err := o.ClipGradNorm(maxNorm)
	if err != nil {
		return norm, err
	}
	return norm, o.Step(lr)
}

// ParamState is the optimizer state of one parameter, copied to the host.
type ParamState struct {
	// Shape is the parameter's shape; M and V (PyTorch's exp_avg and exp_avg_sq) hold Numel(Shape)
	// elements each, row-major.
	Shape []int
	M, V  []float32
}

// OptimizerState is everything AdamW needs to continue bit for bit: the step count and the moments
// of each parameter, keyed by parameter name.
type OptimizerState struct {
	Step   int
	Params map[string]ParamState
}

// State copies the optimizer state to the host (for a checkpoint).
func (o *AdamW) State() *OptimizerState {
	st := &OptimizerState{Step: o.step, Params: map[string]ParamState{}}
	o.each(func(_ *ParamGroup, p Param, i int) {
		st.Params[p.Name] = ParamState{
			Shape: slices.Clone(p.Value.Shape()),
			M:     o.be.ToHost(o.m[i]),
			V:     o.be.ToHost(o.v[i]),
		}
	})
	return st
}

// LoadState restores a state saved by State. It must cover exactly this optimizer's parameters with
// the same shapes; on any mismatch it returns an error and leaves the optimizer unchanged.
func (o *AdamW) LoadState(st *OptimizerState) error {
	if st == nil {
		return errors.New("adamw: load state: no state")
	}
	if st.Step < 0 {
		return fmt.Errorf("adamw: load state: step %d is negative", st.Step)
	}
	var errs []error
	n := 0
	o.each(func(_ *ParamGroup, p Param, _ int) {
		n++
		ps, ok := st.Params[p.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("no state for parameter %s", p.Name))
		case !slices.Equal(ps.Shape, p.Value.Shape()):
			errs = append(errs, fmt.Errorf("parameter %s: state shape %v, parameter %v", p.Name, ps.Shape, p.Value.Shape()))
		case len(ps.M) != p.Value.Len() || len(ps.V) != p.Value.Len():
			errs = append(errs, fmt.Errorf("parameter %s: state has %d and %d moment values, want %d", p.Name, len(ps.M), len(ps.V), p.Value.Len()))
		}
	})
	if len(st.Params) != n && len(errs) == 0 {
		var extra []string
		for name := range st.Params {
			if !o.has(name) {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		errs = append(errs, fmt.Errorf("state for parameters the optimizer does not have: %s", strings.Join(extra, ", ")))
	}
	if len(errs) > 0 {
		return fmt.Errorf("adamw: load state: %w", errors.Join(errs...))
	}
	o.each(func(_ *ParamGroup, p Param, i int) {
		ps := st.Params[p.Name]
		o.m[i] = o.be.FromHost(slices.Clone(ps.M), ps.Shape...)
		o.v[i] = o.be.FromHost(slices.Clone(ps.V), ps.Shape...)
	})
	o.step = st.Step
	return nil
}

// has reports whether the optimizer holds a parameter of that name.
func (o *AdamW) has(name string) bool {
	found := false
	o.each(func(_ *ParamGroup, p Param, _ int) { found = found || p.Name == name })
	return found
}

// noDecayName matches the parameter names that Hugging Face's Trainer.get_decay_parameter_names
// exempts from weight decay by name (biases, layer norms, RMS norms, modules called "norm" or
// "*_norm"), plus GPT-2's LayerNorm modules ln_1, ln_2, ln_f, which Hugging Face exempts by type.
var noDecayName = regexp.MustCompile(`bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)|(?:^|\.)ln_[0-9a-z]+\.`)

// Decays reports whether a parameter of that name gets weight decay under Hugging Face's rule (see
// noDecayName); the match ignores case.
func Decays(name string) bool { return !noDecayName.MatchString(strings.ToLower(name)) }

// GroupParams sorts trainable parameters into optimizer groups the way the Hugging Face stack does.
//
// With loraPlusRatio = 0 it builds Trainer.create_optimizer's two groups: "decay" (names that Decays)
// and "no_decay", both at the base learning rate.
//
// With loraPlusRatio > 0 it follows PEFT's create_loraplus_optimizer (LoRA+, Hayou et al. 2024,
// arXiv 2402.12354): a parameter whose name contains "lora_B", or which is 1-D (biases, norm
// weights), goes to B at ratio × the learning rate, split into "B" (with weight decay) and
// "B_no_decay" by Decays (PEFT splits by its own older rule, biases and nn.LayerNorm modules only,
// so it would decay an RMSNorm weight that Decays exempts); every other parameter goes to "A" at the base rate, with weight decay
// (PEFT gives all of group A the decay). PEFT also has an "embedding" group with its own absolute
// learning rate (loraplus_lr_embedding, 1e-6) for LoRA embedding layers; eva has no LoRA embedding
// layers, so names containing "lora_embedding" are refused rather than silently mis-grouped.
//
// Empty groups are left out; the order within a group is the order of params.
func GroupParams(params []Param, loraPlusRatio float64) ([]ParamGroup, error) {
	if !(loraPlusRatio >= 0) || math.IsInf(loraPlusRatio, 1) {
		return nil, fmt.Errorf("lora+ ratio %v must be finite and ≥ 0 (0 disables LoRA+)", loraPlusRatio)
	}
	var groups []ParamGroup
	if loraPlusRatio == 0 {
		groups = []ParamGroup{{Name: "decay", LRScale: 1, WeightDecay: true}, {Name: "no_decay", LRScale: 1}}
	} else {
		groups = []ParamGroup{
			{Name: "A", LRScale: 1, WeightDecay: true},
			{Name: "B", LRScale: loraPlusRatio, WeightDecay: true},
			{Name: "B_no_decay", LRScale: loraPlusRatio},
		}
	}
	for _, p := range params {
		if p.Value == nil {
			return nil, fmt.Errorf("parameter %s has no value", p.Name)
		}
		var gi int
		switch {
		case loraPlusRatio == 0 && Decays(p.Name):
			gi = 0
		case loraPlusRatio == 0:
			gi = 1
		case strings.Contains(p.Name, "lora_embedding"):
			return nil, fmt.Errorf("parameter %s: LoRA+ groups for embedding adapters are not supported", p.Name)
		case (strings.Contains(p.Name, "lora_B") || p.Value.Rank() == 1) && Decays(p.Name):
			gi = 1
		case strings.Contains(p.Name, "lora_B") || p.Value.Rank() == 1:
			gi = 2
		}
		groups[gi].Params = append(groups[gi].Params, p)
	}
	return slices.DeleteFunc(groups, func(g ParamGroup) bool { return len(g.Params) == 0 }), nil
}
