package eva

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eva-lora/eva/hf/safetensors"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := testConfig(Exact)
	cfg.Whiten = true
	cfg.RankPattern = map[string]int{"o": 3}
	cfg.AlphaPattern = map[string]float64{"o": 0.1}
	s := calibrate(t, cfg, block, blockSource(t, 5))
	if s.Layers[6].Rank != 0 {
		t.Fatalf("want a rank-0 layer in the round trip, got %+v", s.Report())
	}
	path := filepath.Join(t.TempDir(), "eva.safetensors")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, s)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v (%v), want only the state file", entries, err)
	}
}

func TestSaveIsAtomicOnFailure(t *testing.T) {
	s := calibrate(t, testConfig(Exact), block, blockSource(t, 6))
	dir := t.TempDir()
	path := filepath.Join(dir, "eva.safetensors")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	bad := *s
	bad.Layers = append([]LayerState(nil), s.Layers...)
	bad.Layers[0].A = bad.Layers[0].A[:3] // inconsistent with its rank
	if err := bad.Save(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "b0.q") {
		t.Fatalf("saving an inconsistent state: %v", err)
	}
	after, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if !bytes.Equal(before, after) || len(entries) != 1 {
		t.Error("a failed save changed the directory")
	}
}

// savedState calibrates the test block with the given data seed, saves the state and returns the
// file's tensors and metadata.
func savedState(t *testing.T, seed uint64) ([]safetensors.Tensor, map[string]string) {
	t.Helper()
	s := calibrate(t, testConfig(Exact), block, blockSource(t, seed))
	path := filepath.Join(t.TempDir(), "good.safetensors")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		raw, _ := f.Bytes(n)
		ts = append(ts, safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: bytes.Clone(raw)})
	}
	return ts, f.Metadata()
}

func TestLoadRejectsDamagedStates(t *testing.T) {
	dir := t.TempDir()
	tensors, meta := savedState(t, 7)
	// rewrite copies the good file with one change to its tensors or metadata.
	rewrite := func(name string, edit func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor) string {
		ts := make([]safetensors.Tensor, len(tensors))
		for i, x := range tensors {
			ts[i] = x
			ts[i].Data = bytes.Clone(x.Data)
		}
		md := maps.Clone(meta)
		ts = edit(ts, md)
		path := filepath.Join(dir, name)
		if err := safetensors.Write(path, ts, md); err != nil {
			t.Fatal(err)
		}
		return path
	}
	editMeta := func(edit func(*stateMeta)) func([]safetensors.Tensor, map[string]string) []safetensors.Tensor {
		return func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			var m stateMeta
			if err := json.Unmarshal([]byte(md[metaState]), &m); err != nil {
				t.Fatal(err)
			}
			edit(&m)
			js, _ := json.Marshal(m)
			md[metaState] = string(js)
			return ts
		}
	}
	cases := map[string]struct {
		edit func([]safetensors.Tensor, map[string]string) []safetensors.Tensor
		want string
	}{
		"format": {func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md[metaFormat] = "eva-state/0"
			return ts
		}, "format"},
		"json": {func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md[metaState] = "{"
			return ts
		}, "metadata"},
		"missing tensor": {func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			var out []safetensors.Tensor
			for _, tt := range ts {
				if tt.Name != "b0.o.evr" {
					out = append(out, tt)
				}
			}
			return out
		}, `no tensor "b0.o.evr"`},
		"NaN": {func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "b0.o.A" {
					copy(ts[i].Data, f64Tensor("", nil, []float64{math.NaN()}).Data)
				}
			}
			return ts
		}, "NaN"},
		"rank":      {editMeta(func(m *stateMeta) { m.Layers[3].Rank++ }), "b0.o"},
		"config":    {editMeta(func(m *stateMeta) { m.Config.Tau = 2 }), "tau"},
		"whitening": {editMeta(func(m *stateMeta) { m.Whitening = "peft-aliased" }), "whitening"},
	}
	for name, c := range cases {
		path := rewrite(strings.ReplaceAll(name, " ", "_")+".safetensors", c.edit)
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Load error %v, want one naming the file and %q", name, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.safetensors")); err == nil {
		t.Error("loading a missing file succeeded")
	}
}

func TestReportSumsCapturedVariance(t *testing.T) {
	s := calibrate(t, testConfig(Exact), block, blockSource(t, 8))
	var table, jsonl bytes.Buffer
	if err := s.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteJSONL(&jsonl); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(jsonl.String()), "\n")
	if len(lines) != len(s.Layers) {
		t.Fatalf("%d JSONL lines for %d layers", len(lines), len(s.Layers))
	}
	for i, line := range lines {
		var row LayerSummary
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		l := s.Layers[i]
		want := 0.0
		for _, v := range l.EVR[:l.Rank] {
			want += v
		}
		if row.Name != l.Name || row.Rank != l.Rank || math.Abs(row.Captured-want) > 1e-15 || row.Steps != l.Steps {
			t.Errorf("row %d: %+v, want layer %s rank %d captured %v", i, row, l.Name, l.Rank, want)
		}
		if !strings.Contains(table.String(), l.Name) {
			t.Errorf("table lacks %s:\n%s", l.Name, table.String())
		}
	}
	if !strings.Contains(table.String(), "b0.k (input of b0.q)") || !strings.Contains(table.String(), "7 layers") {
		t.Errorf("table:\n%s", table.String())
	}
}

func TestWriteSVGListsEveryLayer(t *testing.T) {
	st := &State{Config: DefaultConfig(), Batches: 3, Layers: []LayerState{
		{Name: "a.q_proj", In: 4, R: 2, MaxRank: 4, Rank: 3, EVR: []float64{0.5, 0.2, 0.1, 0.05}},
		{Name: "a.<o>", In: 4, R: 2, MaxRank: 4, Rank: 0, EVR: []float64{0.3, 0.1, 0.1, 0.1}},
	}}
	var b strings.Builder
	if err := st.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, want := range []string{"<svg", "a.q_proj", "a.&lt;o&gt;", "80.0%", "0.0%", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}
