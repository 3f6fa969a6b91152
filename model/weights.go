package model

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/eva-lora/eva/tensor"
)

// WeightSource is where a model's tensors come from (a safetensors file or a sharded set).
type WeightSource interface {
	// Has reports whether the named tensor exists.
	Has(name string) bool
	// Shape returns the stored shape of a tensor.
	Shape(name string) ([]int, error)
	// Float32 returns a fresh float32 copy of a tensor, converting F16 and BF16.
	Float32(name string) ([]float32, error)
}

// Wrapper is implemented by backends that can adopt a host slice as storage without copying it.
type Wrapper interface {
	// Wrap adopts data (which the caller must no longer use) as a tensor of the given shape.
	Wrap(data []float32, shape ...int) *tensor.Tensor
}

// Init generates the values of a tensor for a model that is created rather than loaded.
type Init func(name string, shape []int) []float32

// NormalInit initialises like transformers' _init_weights for these architectures: matrices from
// N(0, std²) (a seeded generator, in call order), 1-D weights (norm scales) to 1 and biases to 0.
func NormalInit(seed uint64, std float64) Init {
	rng := rand.New(rand.NewPCG(seed, 0x65766121))
	return func(name string, shape []int) []float32 {
		d := make([]float32, tensor.Numel(shape))
		switch {
		case strings.HasSuffix(name, ".bias"):
		case len(shape) == 1:
			for i := range d {
				d[i] = 1
			}
		default:
			for i := range d {
				d[i] = float32(rng.NormFloat64() * std)
			}
		}
		return d
	}
}

// Loader reads tensors from a WeightSource onto a backend, checking each shape against the one the
// configuration implies. With a nil Src it creates every
// tensor with Init instead (a freshly initialised model).
type Loader struct {
	// Src is the weight source and Origin names it in errors (the checkpoint directory).
	Src    WeightSource
	Origin string
	// Init creates tensors when Src is nil.
	Init Init
	// Backend receives the tensors.
	Backend tensor.Backend
	used    map[string]bool
}

// Load reads the named tensor, which must have exactly the given shape.
func (l *Loader) Load(name string, shape ...int) (*tensor.Tensor, error) {
	data, err := l.read(name, shape)
	if err != nil {
		return nil, err
	}
	return l.adopt(data, shape), nil
}

// read returns the named tensor's data after checking its shape.
func (l *Loader) read(name string, shape []int) ([]float32, error) {
	if l.Src == nil {
		return l.Init(name, shape), nil
	}
	if !l.Src.Has(name) {
		return nil, fmt.Errorf("%s: missing tensor %q", l.Origin, name)
	}
	got, err := l.Src.Shape(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Origin, err)
	}
	if tensor.Numel(got) != tensor.Numel(shape) || len(got) != len(shape) {
		return nil, fmt.Errorf("%s: tensor %q has shape %v but config.json implies %v", l.Origin, name, got, shape)
	}
	for i := range got {
		if got[i] != shape[i] {
			return nil, fmt.Errorf("%s: tensor %q has shape %v but config.json implies %v", l.Origin, name, got, shape)
		}
	}
	data, err := l.Src.Float32(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Origin, err)
	}
	return data, nil
}

// adopt moves host data onto the backend, without a copy where the backend allows.
func (l *Loader) adopt(data []float32, shape []int) *tensor.Tensor {
	if w, ok := l.Backend.(Wrapper); ok {
		return w.Wrap(data, shape...)
	}
	return l.Backend.FromHost(data, shape...)
}

// Has reports whether the source holds the named tensor (always true when creating a model).
func (l *Loader) Has(name string) bool { return l.Src == nil || l.Src.Has(name) }

// LoadTransposed reads a tensor stored as [shape[1], shape[0]] and returns it as shape ([Out, In]
// from GPT-2's Conv1D [In, Out]).
func (l *Loader) LoadTransposed(name string, rows, cols int) (*tensor.Tensor, error) {
	src, err := l.read(name, []int{cols, rows})
	if err != nil {
		return nil, err
	}
	dst := make([]float32, len(src))
	for i := 0; i < cols; i++ {
		for j := 0; j < rows; j++ {
			dst[j*cols+i] = src[i*rows+j]
		}
	}
	return l.adopt(dst, []int{rows, cols}), nil
}
