package peft

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/internal/pattern"
)

// rawConfig holds the adapter_config.json fields eva reads.
type rawConfig struct {
	PeftType      string             `json:"peft_type"`
	BaseModel     string             `json:"base_model_name_or_path"`
	R             *int               `json:"r"`
	Alpha         *float64           `json:"lora_alpha"`
	RankPattern   map[string]int     `json:"rank_pattern"`
	AlphaPattern  map[string]float64 `json:"alpha_pattern"`
	UseRSLoRA     bool               `json:"use_rslora"`
	UseDoRA       bool               `json:"use_dora"`
	FanInFanOut   bool               `json:"fan_in_fan_out"`
	Dropout       float64            `json:"lora_dropout"`
	Init          json.RawMessage    `json:"init_lora_weights"`
	TaskType      string             `json:"task_type"`
	Eva           *EvaConfig         `json:"eva_config"`
	TargetModules json.RawMessage    `json:"target_modules"`
}

// Load reads a PEFT LoRA adapter directory. Per-layer ranks come from the tensors (and must agree
// with rank_pattern), per-layer alphas from alpha_pattern with PEFT's matching rule (the first key
// whose regular expression ^(.*\.)?(key)$ matches the module path, in the file's key order).
func Load(dir string) (Config, []Layer, error) {
	cfgPath := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return Config{}, nil, fmt.Errorf("load adapter: %w", err)
	}
	var rc rawConfig
	if err := json.Unmarshal(b, &rc); err != nil {
		return Config{}, nil, fmt.Errorf("load adapter %s: %w", cfgPath, err)
	}
	if rc.PeftType != "LORA" {
		return Config{}, nil, fmt.Errorf("load adapter %s: peft_type %q, eva reads LORA adapters only", cfgPath, rc.PeftType)
	}
	if rc.R == nil || *rc.R < 1 || rc.Alpha == nil {
		return Config{}, nil, fmt.Errorf("load adapter %s: r must be ≥ 1 and lora_alpha present", cfgPath)
	}
	alphaPat, err := filePattern(b, "alpha_pattern", rc.AlphaPattern)
	if err != nil {
		return Config{}, nil, fmt.Errorf("load adapter %s: %w", cfgPath, err)
	}
	rankPat, err := filePattern(b, "rank_pattern", rc.RankPattern)
	if err != nil {
		return Config{}, nil, fmt.Errorf("load adapter %s: %w", cfgPath, err)
	}
	if rc.Dropout < 0 || rc.Dropout >= 1 {
		return Config{}, nil, fmt.Errorf("load adapter %s: lora_dropout %v, want [0, 1)", cfgPath, rc.Dropout)
	}
	c := Config{BaseModel: rc.BaseModel, R: *rc.R, Alpha: *rc.Alpha, RSLoRA: rc.UseRSLoRA, DoRA: rc.UseDoRA, FanInFanOut: rc.FanInFanOut,
		Dropout: rc.Dropout, TaskType: rc.TaskType, Eva: rc.Eva}
	var initStr string
	if json.Unmarshal(rc.Init, &initStr) == nil {
		c.Init = initStr
	}
	wPath := filepath.Join(dir, WeightsFile)
	f, err := safetensors.Open(wPath)
	if err != nil {
		return Config{}, nil, fmt.Errorf("load adapter: %w", err)
	}
	defer f.Close()
	c.Metadata = f.Metadata()
	var layers []Layer
	seen := map[string]bool{}
	for _, name := range f.Names() {
		module, ok := strings.CutSuffix(name, ".lora_A.weight")
		if !ok {
			if !strings.HasSuffix(name, ".lora_B.weight") && !isMagnitude(name) {
				return Config{}, nil, fmt.Errorf("load adapter %s: unexpected tensor %q (eva reads lora_A, lora_B and lora_magnitude_vector)", wPath, name)
			}
			if isMagnitude(name) && !c.DoRA {
				return Config{}, nil, fmt.Errorf("load adapter %s: tensor %q is a DoRA magnitude but use_dora is false", wPath, name)
			}
			continue
		}
		module = strings.TrimPrefix(module, prefix)
		seen[module] = true
		l, err := readLayer(f, wPath, module, c.DoRA)
		if err != nil {
			return Config{}, nil, err
		}
		l.Alpha = c.Alpha
		if _, alpha, ok := alphaPat.First(module); ok {
			l.Alpha = alpha
		}
		if k, r, ok := rankPat.First(module); ok && r != l.Rank {
			return Config{}, nil, fmt.Errorf("load adapter %s: %s has rank %d in the tensors but %d in rank_pattern (key %q)", dir, module, l.Rank, r, k)
		}
		layers = append(layers, l)
	}
	for _, name := range f.Names() {
		if m, ok := strings.CutSuffix(name, ".lora_B.weight"); ok && !seen[strings.TrimPrefix(m, prefix)] {
			return Config{}, nil, fmt.Errorf("load adapter %s: %s has lora_B but no lora_A", wPath, m)
		}
		if isMagnitude(name) && !seen[strings.TrimPrefix(strings.TrimSuffix(strings.TrimSuffix(name, ".weight"), magnitudeSuffix), prefix)] {
			return Config{}, nil, fmt.Errorf("load adapter %s: %s is a DoRA magnitude without lora_A and lora_B", wPath, name)
		}
	}
	if len(layers) == 0 {
		return Config{}, nil, fmt.Errorf("load adapter %s: no LoRA tensors", wPath)
	}
	return c, layers, nil
}

// isMagnitude reports whether a tensor name is a DoRA magnitude (with or without ".weight").
func isMagnitude(name string) bool {
	return strings.HasSuffix(name, magnitudeSuffix) || strings.HasSuffix(name, magnitudeSuffix+".weight")
}

// readLayer reads one module's A and B (and DoRA magnitude) and checks that their shapes fit together.
func readLayer(f *safetensors.File, path, module string, dora bool) (Layer, error) {
	aName, bName := prefix+module+".lora_A.weight", prefix+module+".lora_B.weight"
	ai, _ := f.Info(aName)
	bi, ok := f.Info(bName)
	if !ok {
		return Layer{}, fmt.Errorf("load adapter %s: %s has lora_A but no lora_B", path, module)
	}
	if len(ai.Shape) != 2 || len(bi.Shape) != 2 || bi.Shape[1] != ai.Shape[0] || ai.Shape[0] < 1 {
		return Layer{}, fmt.Errorf("load adapter %s: %s has lora_A %v and lora_B %v, which do not form a LoRA pair", path, module, ai.Shape, bi.Shape)
	}
	a, err := f.Float32(aName)
	if err != nil {
		return Layer{}, fmt.Errorf("load adapter: %w", err)
	}
	bv, err := f.Float32(bName)
	if err != nil {
		return Layer{}, fmt.Errorf("load adapter: %w", err)
	}
	l := Layer{Module: module, Rank: ai.Shape[0], In: ai.Shape[1], Out: bi.Shape[0], A: a, B: bv}
	if !dora {
		return l, nil
	}
	mName := prefix + module + magnitudeSuffix
	mi, ok := f.Info(mName)
	if !ok {
		mName += ".weight"
		if mi, ok = f.Info(mName); !ok {
			return Layer{}, fmt.Errorf("load adapter %s: use_dora is true but %s has no lora_magnitude_vector", path, module)
		}
	}
	if len(mi.Shape) != 1 || mi.Shape[0] != l.Out {
		return Layer{}, fmt.Errorf("load adapter %s: %s has a DoRA magnitude of shape %v for %d outputs", path, module, mi.Shape, l.Out)
	}
	if l.Magnitude, err = f.Float32(mName); err != nil {
		return Layer{}, fmt.Errorf("load adapter: %w", err)
	}
	return l, nil
}

// filePattern compiles the pattern field of the adapter_config.json doc (decoded into m) with its
// keys in file order, PEFT's order of precedence.
func filePattern[V comparable](doc []byte, field string, m map[string]V) (*pattern.Pattern[V], error) {
	keys, err := orderedKeys(doc, field)
	if err != nil {
		return nil, err
	}
	return pattern.CompileOrdered(field, keys, m)
}

// orderedKeys returns the keys of a top-level JSON object field in file order.
func orderedKeys(doc []byte, field string) ([]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, err
	}
	raw, ok := top[field]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New(field + " is not an object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
