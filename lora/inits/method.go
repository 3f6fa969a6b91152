package inits

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/eva-lora/eva/linalg"
)

// ErrUnknownMethod reports a name that Parse does not know.
var ErrUnknownMethod = errors.New("unknown LoRA initialisation")

type kind int

const (
	kindKaiming kind = iota
	kindGaussian
	kindOrthonormal
	kindPiSSA
	kindMiLoRA
	kindOLoRA
	kindCorDAIPM
	kindCorDAKPM
	kindLoRAGA
	kindLoRAOne
	kindLoRADA
	kindAILoRA
	kindEVA
)

// methodInfo is what the registry knows about each method: its canonical name and what it needs.
var methodInfo = []struct {
	name               string
	cov, grad, outGrad bool
	offset             bool
}{
	kindKaiming:     {name: "kaiming"},
	kindGaussian:    {name: "gaussian"},
	kindOrthonormal: {name: "orthonormal"},
	kindPiSSA:       {name: "pissa", offset: true},
	kindMiLoRA:      {name: "milora", offset: true},
	kindOLoRA:       {name: "olora", offset: true},
	kindCorDAIPM:    {name: "corda-ipm", cov: true, offset: true},
	kindCorDAKPM:    {name: "corda-kpm", cov: true, offset: true},
	kindLoRAGA:      {name: "lora-ga", grad: true, offset: true},
	kindLoRAOne:     {name: "lora-one", grad: true},
	kindLoRADA:      {name: "lora-da", cov: true, grad: true, outGrad: true},
	kindAILoRA:      {name: "ailora", offset: true},
	kindEVA:         {name: "eva"},
}

// aliases maps accepted alternative spellings (after lower-casing and '_' → '-') to a method.
var aliases = map[string]kind{
	"lora":  kindKaiming,
	"true":  kindKaiming, // PEFT's init_lora_weights=True
	"corda": kindCorDAIPM,
}

// Method is a LoRA initialisation method, as named on the command line or in PEFT's
// init_lora_weights. The zero value is "kaiming".
type Method struct {
	kind  kind
	niter int // PiSSA: power iterations of the randomized SVD, or ExactSVD
}

// Names returns the canonical method names that Parse accepts ("pissa_niter_N" stands for every N).
func Names() []string {
	names := make([]string, 0, len(methodInfo)+1)
	for k, info := range methodInfo {
		names = append(names, info.name)
		if kind(k) == kindPiSSA {
			names = append(names, "pissa_niter_N")
		}
	}
	return names
}

// Parse returns the method called name. It accepts the canonical names of [Names] ("kaiming",
// "gaussian", "orthonormal", "pissa", "pissa_niter_N" with N ≥ 0, "milora", "olora", "corda-ipm", "corda-kpm",
// "lora-ga", "lora-one", "lora-da", "ailora", "eva") and the aliases "lora" and "true" (kaiming) and
// "corda" (corda-ipm), ignoring case and treating '_' and '-' alike (so PEFT's "lora_ga" works).
func Parse(name string) (Method, error) {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	if rest, ok := strings.CutPrefix(norm, "pissa-niter-"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || rest != strconv.Itoa(n) {
			return Method{}, fmt.Errorf("inits: %q: want pissa_niter_N with an integer N ≥ 0: %w", name, ErrUnknownMethod)
		}
		return Method{kind: kindPiSSA, niter: n}, nil
	}
	for k, info := range methodInfo {
		if norm == info.name {
			return Method{kind: kind(k), niter: ExactSVD}, nil
		}
	}
	if k, ok := aliases[norm]; ok {
		return Method{kind: k, niter: ExactSVD}, nil
	}
	return Method{}, fmt.Errorf("inits: %q (known: %s): %w", name, strings.Join(Names(), ", "), ErrUnknownMethod)
}

// String returns the canonical name, "pissa_niter_N" for a randomized PiSSA.
func (m Method) String() string {
	if m.kind == kindPiSSA && m.niter != ExactSVD {
		return "pissa_niter_" + strconv.Itoa(m.niter)
	}
	return methodInfo[m.kind].name
}

// Needs reports which statistics the trainer must collect for this method: the input covariance
// (Stats.Cov) and the weight gradient (Stats.Grad).
func (m Method) Needs() (cov, grad bool) {
	info := methodInfo[m.kind]
	return info.cov, info.grad
}

// NeedsOutGradSq reports whether the method also reads Stats.OutGradSq (LoRA-DA only); it is
// collected in the same backward passes as the gradient.
func (m Method) NeedsOutGradSq() bool { return methodInfo[m.kind].outGrad }

// Offsets reports whether the method rewrites the base weight as W − s·B·A.
func (m Method) Offsets() bool { return methodInfo[m.kind].offset }

// EVA reports whether m is EVA, which is built from an eva.State elsewhere and not by [Init].
func (m Method) EVA() bool { return m.kind == kindEVA }

// Config is the per-layer input of [Init] besides the weight and the statistics.
type Config struct {
	// Rank is r and Scale the adapter scale s (alpha/r, or alpha/√r with rsLoRA).
	Rank  int
	Scale float64
	// Layer is the module path (e.g. "model.layers.0.self_attn.v_proj"): AILoRA's role comes from it
	// (see RoleForLayer) and it is mixed into the random streams so that layers draw differently.
	Layer string
	// Seed seeds the random draws: Kaiming, Gaussian and Orthonormal use PCG(Seed, hash(Layer)); the randomized
	// SVDs of pissa_niter_N and LoRA-GA use Seed.
	Seed uint64
	// LoRAGA overrides DefaultLoRAGAOptions (its Seed field is ignored: Seed above is used).
	LoRAGA *LoRAGAOptions
	// LoRAOneGamma is LoRA-One's γ; zero selects DefaultLoRAOneGamma.
	LoRAOneGamma float64
	// LoRADA sets LoRA-DA's options; nil selects DefaultLoRADAOptions, which leaves Population unset,
	// so LoRA-DA needs this field.
	LoRADA *LoRADAOptions
	// CovCache, when set, lets CorDA derive each covariance matrix's damped inverse once for every
	// layer that shares it.
	CovCache *CovCache
	// Solver computes the factorisations; the zero Solver is linalg's package-level one. Layers
	// computed side by side in linalg.Parallel pass the Solver their job was given.
	Solver linalg.Solver
}

// Init computes method m for one layer with base weight w ([out, in]) and statistics st (only the
// fields m needs are read). It returns an error wrapping ErrUnsupported for EVA.
func Init(m Method, w *linalg.Dense, st Stats, cfg Config) (Result, error) {
	name := m.String()
	if err := checkMatrix(name, "weight", w, -1, -1); err != nil {
		return Result{}, err
	}
	out, in := w.Rows, w.Cols
	switch m.kind {
	case kindKaiming, kindGaussian, kindOrthonormal:
		h := fnv.New64a()
		h.Write([]byte(cfg.Layer))
		rng := rand.New(rand.NewPCG(cfg.Seed, h.Sum64()))
		switch m.kind {
		case kindKaiming:
			return Kaiming(out, in, cfg.Rank, rng)
		case kindGaussian:
			return Gaussian(out, in, cfg.Rank, rng)
		}
		return orthonormal(cfg.Solver, out, in, cfg.Rank, rng)
	case kindPiSSA:
		return pissa(cfg.Solver, w, cfg.Rank, cfg.Scale, m.niter, cfg.Seed)
	case kindMiLoRA:
		return milora(cfg.Solver, w, cfg.Rank, cfg.Scale)
	case kindOLoRA:
		return olora(cfg.Solver, w, cfg.Rank)
	case kindCorDAIPM:
		return corda(cfg.Solver, w, st.Cov, cfg.Rank, cfg.Scale, IPM, cfg.CovCache)
	case kindCorDAKPM:
		return corda(cfg.Solver, w, st.Cov, cfg.Rank, cfg.Scale, KPM, cfg.CovCache)
	case kindLoRAGA:
		opts := DefaultLoRAGAOptions()
		if cfg.LoRAGA != nil {
			opts = *cfg.LoRAGA
		}
		opts.Seed = cfg.Seed
		return loraGA(cfg.Solver, w, st.Grad, cfg.Rank, cfg.Scale, opts)
	case kindLoRAOne:
		if err := checkMatrix(name, "gradient", st.Grad, out, in); err != nil {
			return Result{}, err
		}
		gamma := cfg.LoRAOneGamma
		if gamma == 0 {
			gamma = DefaultLoRAOneGamma
		}
		return loraOne(cfg.Solver, st.Grad, cfg.Rank, gamma)
	case kindLoRADA:
		if err := checkMatrix(name, "gradient", st.Grad, out, in); err != nil {
			return Result{}, err
		}
		opts := DefaultLoRADAOptions()
		if cfg.LoRADA != nil {
			opts = *cfg.LoRADA
		}
		return loraDA(cfg.Solver, st.Grad, st.Cov, st.OutGradSq, cfg.Rank, opts)
	case kindAILoRA:
		return ailora(cfg.Solver, w, cfg.Rank, cfg.Scale, RoleForLayer(cfg.Layer))
	case kindEVA:
		return Result{}, fmt.Errorf("inits: eva is built from an eva.State, not by inits.Init: %w", ErrUnsupported)
	}
	return Result{}, fmt.Errorf("inits: method %d: %w", m.kind, ErrUnknownMethod)
}
