package eva

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eva-lora/eva/hf/safetensors"
)

// FuzzLoad hands Load EVA state files (a user passes one with --state) whose JSON metadata is
// arbitrary, next to the tensors of a real calibration: it must never panic, errors must name the
// file, and a state it accepts must be one that Save would write.
func FuzzLoad(f *testing.F) {
	var (
		once    sync.Once
		tensors []safetensors.Tensor
		goodMD  string
	)
	setup := func(t *testing.T) {
		var md map[string]string
		tensors, md = savedState(t, 9)
		goodMD = md[metaState]
	}
	f.Add(`{}`, stateFormat)
	f.Add(`{"layers": [{"name": "b0.q", "in": 8, "r": 2, "max_rank": 4, "rank": -1}]}`, stateFormat)
	f.Add(`{"layers": null, "batches": 1e400}`, stateFormat)
	f.Add(`use the real metadata`, stateFormat)
	f.Fuzz(func(t *testing.T, meta, format string) {
		once.Do(func() { setup(t) })
		real := meta == "use the real metadata" && format == stateFormat
		if real {
			meta = goodMD
		}
		path := filepath.Join(t.TempDir(), "state.safetensors")
		if err := safetensors.Write(path, tensors, map[string]string{metaFormat: format, metaState: meta}); err != nil {
			return // metadata no safetensors file can hold (the writer refuses what is not UTF-8)
		}
		s, err := Load(path)
		if err != nil {
			if real {
				t.Fatalf("the real state does not load: %v", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := s.check(); err != nil {
			t.Fatalf("accepted an inconsistent state: %v", err)
		}
	})
}
