package eva

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/eva-lora/eva/hf/safetensors"
)

// File layout of a saved State: a safetensors file with three F64 tensors per layer, named
// "<layer>.A" (Rank×In), "<layer>.evr" and "<layer>.singular_values" (MaxRank each), and the rest
// as JSON in the metadata entry "eva_state" (with "format" = stateFormat).
const (
	stateFormat  = "eva-state/1"
	metaFormat   = "format"
	metaState    = "eva_state"
	whitenPolicy = "per-layer" // recorded so readers know PEFT's group aliasing was not reproduced
)

// stateMeta is the JSON part of a saved State.
type stateMeta struct {
	Config    Config `json:"config"`
	Batches   int    `json:"batches"`
	Whitening string `json:"whitening"`
	// LabelMask is absent in files written before it was recorded; those used the default, true.
	LabelMask *bool       `json:"use_label_mask,omitempty"`
	Layers    []layerMeta `json:"layers"`
}

type layerMeta struct {
	Name    string  `json:"name"`
	In      int     `json:"in"`
	R       int     `json:"r"`
	MaxRank int     `json:"max_rank"`
	Rank    int     `json:"rank"`
	Steps   int     `json:"steps"`
	Samples int64   `json:"samples"`
	Alpha   float64 `json:"alpha"`
	Group   string  `json:"group,omitempty"`
}

// Save writes s to path atomically (a temporary file in the same directory, synced, then renamed).
func (s *State) Save(path string) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("save EVA state %s: %w", path, err)
	}
	meta := stateMeta{Config: s.Config, Batches: s.Batches, Whitening: whitenPolicy, LabelMask: &s.LabelMask}
	var tensors []safetensors.Tensor
	for _, l := range s.Layers {
		meta.Layers = append(meta.Layers, layerMeta{Name: l.Name, In: l.In, R: l.R, MaxRank: l.MaxRank, Rank: l.Rank,
			Steps: l.Steps, Samples: l.Samples, Alpha: l.Alpha, Group: l.Group})
		tensors = append(tensors,
			f64Tensor(l.Name+".A", []int{l.Rank, l.In}, l.A),
			f64Tensor(l.Name+".evr", []int{l.MaxRank}, l.EVR),
			f64Tensor(l.Name+".singular_values", []int{l.MaxRank}, l.SingularValues))
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("save EVA state %s: %w", path, err)
	}
	if err := safetensors.Write(path, tensors, map[string]string{metaFormat: stateFormat, metaState: string(js)}); err != nil {
		return fmt.Errorf("save EVA state: %w", err)
	}
	return nil
}

// Load reads a State written by Save, validating it fully.
func Load(path string) (*State, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load EVA state: %w", err)
	}
	defer f.Close()
	md := f.Metadata()
	if md[metaFormat] != stateFormat {
		return nil, fmt.Errorf("load EVA state %s: format %q, want %q", path, md[metaFormat], stateFormat)
	}
	var meta stateMeta
	if err := json.Unmarshal([]byte(md[metaState]), &meta); err != nil {
		return nil, fmt.Errorf("load EVA state %s: metadata: %w", path, err)
	}
	if meta.Whitening != whitenPolicy {
		return nil, fmt.Errorf("load EVA state %s: whitening policy %q, want %q", path, meta.Whitening, whitenPolicy)
	}
	s := &State{Config: meta.Config, Batches: meta.Batches, LabelMask: meta.LabelMask == nil || *meta.LabelMask}
	for _, lm := range meta.Layers {
		l := LayerState{Name: lm.Name, In: lm.In, R: lm.R, MaxRank: lm.MaxRank, Rank: lm.Rank,
			Steps: lm.Steps, Samples: lm.Samples, Alpha: lm.Alpha, Group: lm.Group}
		if l.Rank < 0 || l.In < 1 || l.MaxRank < 0 {
			return nil, fmt.Errorf("load EVA state %s: layer %q: rank %d, input width %d, max rank %d", path, l.Name, l.Rank, l.In, l.MaxRank)
		}
		if l.A, err = readF64(f, l.Name+".A", []int{l.Rank, l.In}); err == nil {
			if l.EVR, err = readF64(f, l.Name+".evr", []int{l.MaxRank}); err == nil {
				l.SingularValues, err = readF64(f, l.Name+".singular_values", []int{l.MaxRank})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("load EVA state %s: layer %q: %w", path, l.Name, err)
		}
		s.Layers = append(s.Layers, l)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("load EVA state %s: %w", path, err)
	}
	return s, nil
}

// check verifies the consistency Save and Load rely on.
func (s *State) check() error {
	if err := s.Config.validate(); err != nil {
		return err
	}
	if len(s.Layers) == 0 {
		return fmt.Errorf("no layers")
	}
	seen := make(map[string]bool, len(s.Layers))
	for _, l := range s.Layers {
		switch {
		case l.Name == "":
			return fmt.Errorf("a layer has an empty name")
		case seen[l.Name]:
			return fmt.Errorf("layer %q listed twice", l.Name)
		case l.In < 1 || l.Rank < 0 || l.Rank > l.MaxRank || l.MaxRank > l.In:
			return fmt.Errorf("layer %q: rank %d, max rank %d, input width %d are inconsistent", l.Name, l.Rank, l.MaxRank, l.In)
		case len(l.A) != l.Rank*l.In || len(l.EVR) != l.MaxRank || len(l.SingularValues) != l.MaxRank:
			return fmt.Errorf("layer %q: %d values of A, %d EVRs and %d singular values for rank %d of %d, width %d",
				l.Name, len(l.A), len(l.EVR), len(l.SingularValues), l.Rank, l.MaxRank, l.In)
		}
		seen[l.Name] = true
	}
	return nil
}

// f64Tensor encodes values as a little-endian F64 tensor.
func f64Tensor(name string, shape []int, values []float64) safetensors.Tensor {
	buf := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
	}
	return safetensors.Tensor{Name: name, DType: safetensors.Float64, Shape: shape, Data: buf}
}

// readF64 decodes the named F64 tensor, which must have the given shape and finite values.
func readF64(f *safetensors.File, name string, shape []int) ([]float64, error) {
	info, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	if info.DType != safetensors.Float64 || !slices.Equal(info.Shape, shape) {
		return nil, fmt.Errorf("tensor %q is %s %v, want F64 %v", name, info.DType, info.Shape, shape)
	}
	raw, ok := f.Bytes(name)
	if !ok {
		return nil, fmt.Errorf("no data for tensor %q", name)
	}
	out := make([]float64, len(raw)/8)
	for i := range out {
		v := math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("tensor %q: element %d is %v", name, i, v)
		}
		out[i] = v
	}
	return out, nil
}
