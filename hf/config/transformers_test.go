package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestTransformersConfigs loads config.json files written by transformers (testdata/
// transformers_configs.py) and compares them with what transformers itself reports: sizes and
// defaults from the config object, biases and tying from the instantiated model, and the sliding
// layers from layer_types.
func TestTransformersConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/transformers-*.expected.json")
	if err != nil || len(files) != len(SupportedModelTypes) {
		t.Fatalf("found %d expectation files, want one per model type (%v)", len(files), err)
	}
	for _, expectedPath := range files {
		configPath := strings.TrimSuffix(expectedPath, ".expected.json") + ".json"
		t.Run(filepath.Base(configPath), func(t *testing.T) {
			data, err := os.ReadFile(expectedPath)
			if err != nil {
				t.Fatal(err)
			}
			var want Config
			var extra struct {
				LayerTypes []string `json:"_layer_types"`
			}
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &extra); err != nil {
				t.Fatal(err)
			}
			got, err := Load(configPath)
			if err != nil {
				t.Fatal(err)
			}
			got.Path, got.Raw, got.Architectures, got.TorchDType = "", nil, nil, ""
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
			if extra.LayerTypes != nil {
				first := slices.Index(extra.LayerTypes, "sliding_attention")
				if got.SlidingWindow == 0 || first != got.FirstSlidingLayer {
					t.Errorf("layer_types %v, but window %d from layer %d", extra.LayerTypes, got.SlidingWindow, got.FirstSlidingLayer)
				}
			}
		})
	}
}
