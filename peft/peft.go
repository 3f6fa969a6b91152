// Package peft writes (and reads) LoRA adapters in Hugging Face PEFT's format: a directory with
// adapter_config.json and adapter_model.safetensors whose tensors are named
// base_model.model.<module>.lora_A.weight [r, in] and ...lora_B.weight [out, r], F32, plus
// ...lora_magnitude_vector [out] for DoRA.
package peft

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/internal/atomicdir"
)

// File names inside an adapter directory.
const (
	ConfigFile  = "adapter_config.json"
	WeightsFile = "adapter_model.safetensors"
)

// prefix is what PEFT's PeftModelForCausalLM puts before every module path.
const prefix = "base_model.model."

// Layer is one adapted module.
type Layer struct {
	// Module is the module path in the base model, e.g. "model.layers.0.self_attn.q_proj".
	Module string
	// Rank, In and Out give the shapes: A is [Rank, In], B is [Out, Rank], row-major.
	Rank, In, Out int
	A, B          []float32
	// Magnitude is DoRA's magnitude vector [Out], nil for plain LoRA.
	Magnitude []float32
	// Alpha is this layer's lora_alpha.
	Alpha float64
}

// magnitudeSuffix ends the name of a DoRA magnitude tensor (PEFT drops the ".weight" of the
// parameter when it saves one).
const magnitudeSuffix = ".lora_magnitude_vector"

// EvaConfig is the eva_config object PEFT records for init_lora_weights="eva".
type EvaConfig struct {
	Rho                  float64 `json:"rho"`
	Tau                  float64 `json:"tau"`
	UseLabelMask         bool    `json:"use_label_mask"`
	LabelMaskValue       int     `json:"label_mask_value"`
	Whiten               bool    `json:"whiten"`
	AdjustScalingFactors bool    `json:"adjust_scaling_factors"`
}

// Config is what adapter_config.json records beyond the layers themselves.
type Config struct {
	// BaseModel is base_model_name_or_path.
	BaseModel string
	// R and Alpha are the global r and lora_alpha; layers that differ go into rank_pattern and
	// alpha_pattern.
	R     int
	Alpha float64
	// Init is init_lora_weights: "eva", "pissa", ... or "" for PEFT's default (true).
	Init string
	// Eva is written as eva_config when not nil.
	Eva *EvaConfig
	// RSLoRA, DoRA and FanInFanOut map to use_rslora, use_dora and fan_in_fan_out.
	RSLoRA, DoRA, FanInFanOut bool
	// Dropout is lora_dropout.
	Dropout float64
	// TaskType is PEFT's task_type ("CAUSAL_LM" when empty).
	TaskType string
	// Metadata goes into the safetensors header next to {"format": "pt"} (eva records how the
	// adapter was made there, since PEFT's config has no field for it).
	Metadata map[string]string
}

// configJSON renders adapter_config.json as PEFT writes it: sorted keys, two-space indent,
// module-relative rank_pattern/alpha_pattern keys, explicit full-name target_modules in module order.
func configJSON(c Config, layers []Layer) ([]byte, error) {
	rankPattern := map[string]int{}
	alphaPattern := map[string]float64{}
	targets := make([]string, 0, len(layers))
	for _, l := range layers {
		targets = append(targets, l.Module)
		if l.Rank != c.R {
			rankPattern[l.Module] = l.Rank
		}
		if l.Alpha != c.Alpha {
			alphaPattern[l.Module] = l.Alpha
		}
	}
	task := c.TaskType
	if task == "" {
		task = "CAUSAL_LM"
	}
	var init any = true
	if c.Init != "" {
		init = c.Init
	}
	var alpha any = c.Alpha
	if c.Alpha == math.Trunc(c.Alpha) && math.Abs(c.Alpha) < 1<<53 {
		alpha = int64(c.Alpha) // PEFT (and Ollama, which parses it as uint32) expect an integer
	}
	m := map[string]any{
		"alpha_pattern":           floatMap(alphaPattern),
		"base_model_name_or_path": c.BaseModel,
		"bias":                    "none",
		"eva_config":              c.Eva,
		"fan_in_fan_out":          c.FanInFanOut,
		"inference_mode":          true,
		"init_lora_weights":       init,
		"lora_alpha":              alpha,
		"lora_bias":               false,
		"lora_dropout":            c.Dropout,
		"modules_to_save":         nil,
		"peft_type":               "LORA",
		"r":                       c.R,
		"rank_pattern":            rankPattern,
		"target_modules":          targets,
		"task_type":               task,
		"use_dora":                c.DoRA,
		"use_rslora":              c.RSLoRA,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// floatMap keeps JSON floats looking like Python floats (24.0, not 24) as PEFT writes them.
type floatMap map[string]float64

// MarshalJSON implements json.Marshaler with sorted keys and a decimal point on every value.
func (f floatMap) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		v := f[k]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("alpha of %s is %v", k, v)
		}
		s := fmt.Sprint(v)
		if v == math.Trunc(v) && !bytes.ContainsAny([]byte(s), "e") {
			s += ".0"
		}
		b.WriteString(s)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Save writes the adapter directory dir atomically (see atomicdir): a failure leaves no partial
// adapter behind.
func Save(dir string, c Config, layers []Layer) error {
	return atomicdir.Write(dir, func(tmp string) error { return WriteFiles(tmp, c, layers) })
}

// WriteFiles writes adapter_config.json and adapter_model.safetensors into the existing directory
// dir (for callers that assemble a larger output directory atomically themselves).
func WriteFiles(dir string, c Config, layers []Layer) error {
	if c.R < 1 {
		return fmt.Errorf("save adapter %s: r = %d, want ≥ 1", dir, c.R)
	}
	if len(layers) == 0 {
		return fmt.Errorf("save adapter %s: no adapted layers", dir)
	}
	tensors := make([]safetensors.Tensor, 0, 2*len(layers))
	for _, l := range layers {
		if l.Rank < 1 || len(l.A) != l.Rank*l.In || len(l.B) != l.Out*l.Rank {
			return fmt.Errorf("save adapter %s: layer %s has rank %d with A of %d and B of %d values for %d→%d",
				dir, l.Module, l.Rank, len(l.A), len(l.B), l.In, l.Out)
		}
		tensors = append(tensors,
			safetensors.F32(prefix+l.Module+".lora_A.weight", []int{l.Rank, l.In}, l.A),
			safetensors.F32(prefix+l.Module+".lora_B.weight", []int{l.Out, l.Rank}, l.B))
		if (l.Magnitude != nil) != c.DoRA || (l.Magnitude != nil && len(l.Magnitude) != l.Out) {
			return fmt.Errorf("save adapter %s: layer %s has %d DoRA magnitudes for %d outputs (use_dora %v)",
				dir, l.Module, len(l.Magnitude), l.Out, c.DoRA)
		}
		if l.Magnitude != nil {
			tensors = append(tensors, safetensors.F32(prefix+l.Module+magnitudeSuffix, []int{l.Out}, l.Magnitude))
		}
	}
	meta := map[string]string{"format": "pt"}
	for k, v := range c.Metadata {
		if k != "format" {
			meta[k] = v
		}
	}
	cfg, err := configJSON(c, layers)
	if err != nil {
		return fmt.Errorf("save adapter %s: %w", dir, err)
	}
	if err := safetensors.Write(filepath.Join(dir, WeightsFile), tensors, meta); err != nil {
		return fmt.Errorf("save adapter %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), cfg, 0o644); err != nil {
		return fmt.Errorf("save adapter %s: %w", dir, err)
	}
	return nil
}
