package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// File names Hugging Face uses for a checkpoint's weights.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Set is a checkpoint made of one or more safetensors files, addressed by tensor name.
type Set struct {
	source string           // what was opened: a directory, an index or a single file
	files  []*File          // the open shards, sorted by path
	owner  map[string]*File // tensor name → the shard that holds it
	names  []string         // sorted
}

// OpenDir opens a checkpoint. Given a directory it opens model.safetensors there, or else the
// shards listed by model.safetensors.index.json; given a file ending in ".index.json" it opens
// that index's shards; given any other file it opens that single file.
//
// An index must map every tensor to a shard file in the same directory; OpenDir fails when a shard
// is missing or invalid, when a listed tensor is absent from its shard, or when a tensor appears in
// two shards or in a shard that the index does not name for it.
func OpenDir(path string) (*Set, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.IsDir() {
		if strings.HasSuffix(path, ".index.json") {
			return openIndex(path)
		}
		return openSingle(path)
	}
	single := filepath.Join(path, SingleFileName)
	if _, err := os.Stat(single); err == nil {
		return openSingle(single)
	}
	index := filepath.Join(path, IndexFileName)
	if _, err := os.Stat(index); err == nil {
		return openIndex(index)
	}
	return nil, fmt.Errorf("safetensors %s: neither %s nor %s found", path, SingleFileName, IndexFileName)
}

func openSingle(path string) (*Set, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	s := &Set{source: path, files: []*File{f}, owner: make(map[string]*File), names: f.Names()}
	for _, name := range s.names {
		s.owner[name] = f
	}
	return s, nil
}

// readIndex parses an index file into its weight map (tensor name → shard file name).
func readIndex(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors index: %w", err)
	}
	weightMap := make(map[string]string)
	found := false
	err = eachMember(data, func(key string, value json.RawMessage) error {
		if key != "weight_map" {
			return nil // "metadata" (total_size, ...) is informational
		}
		found = true
		return eachMember(value, func(name string, v json.RawMessage) error {
			var shard string
			if err := json.Unmarshal(v, &shard); err != nil || isNull(v) {
				return fmt.Errorf("weight_map: shard of tensor %q is %s, not a string", name, brief(v))
			}
			if shard == "" || shard == "." || shard == ".." || filepath.Base(shard) != shard || strings.ContainsAny(shard, `/\`) {
				return fmt.Errorf("weight_map: shard %q of tensor %q is not a plain file name", shard, name)
			}
			weightMap[name] = shard
			return nil
		})
	})
	if err == nil && !found {
		err = errors.New("no weight_map")
	}
	if err == nil && len(weightMap) == 0 {
		err = errors.New("weight_map lists no tensors")
	}
	if err != nil {
		return nil, fmt.Errorf("safetensors index %s: %w", path, err)
	}
	return weightMap, nil
}

func openIndex(path string) (*Set, error) {
	weightMap, err := readIndex(path)
	if err != nil {
		return nil, err
	}
	set := &Set{source: path, owner: make(map[string]*File, len(weightMap))}
	if err := set.load(weightMap, filepath.Dir(path)); err != nil {
		set.Close()
		return nil, err
	}
	return set, nil
}

// load opens the shards of weightMap, found in dir, and checks them against it.
func (s *Set) load(weightMap map[string]string, dir string) error {
	path := s.source
	shards := make(map[string]*File)
	for _, shard := range sortedKeys(invert(weightMap)) {
		f, err := Open(filepath.Join(dir, shard))
		if err != nil {
			return fmt.Errorf("safetensors index %s: shard %s: %w", path, shard, err)
		}
		shards[shard] = f
		s.files = append(s.files, f)
	}
	for _, name := range sortedKeys(weightMap) {
		f := shards[weightMap[name]]
		if _, ok := f.Info(name); !ok {
			return fmt.Errorf("safetensors index %s: tensor %q is listed in shard %s but absent from it", path, name, f.Path())
		}
		s.owner[name] = f
		s.names = append(s.names, name)
	}
	for _, f := range s.files {
		for _, name := range f.h.names {
			if owner := s.owner[name]; owner != f {
				if _, listed := weightMap[name]; !listed {
					return fmt.Errorf("safetensors index %s: tensor %q in shard %s is not listed in the index", path, name, f.Path())
				}
				return fmt.Errorf("safetensors index %s: tensor %q is in two shards, %s and %s", path, name, owner.Path(), f.Path())
			}
		}
	}
	return nil
}

// invert returns the set of values of m, as a map keyed by value.
func invert(m map[string]string) map[string]bool {
	out := make(map[string]bool)
	for _, v := range m {
		out[v] = true
	}
	return out
}

// Source is the path OpenDir resolved: the single file or the index.
func (s *Set) Source() string { return s.source }

// Files returns the open files of the set, sorted by path (one for a single-file checkpoint).
// They stay owned by the Set: do not close them.
func (s *Set) Files() []*File { return slices.Clone(s.files) }

// Names lists every tensor name in sorted order. The caller owns the slice.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Info describes the named tensor; ok is false when no shard holds it.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.owner[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// FileOf returns the path of the file holding the named tensor.
func (s *Set) FileOf(name string) (string, bool) {
	f, ok := s.owner[name]
	if !ok {
		return "", false
	}
	return f.Path(), true
}

// Bytes returns the named tensor's raw bytes, aliasing its shard's mapping (see File.Bytes).
func (s *Set) Bytes(name string) ([]byte, bool) {
	f, ok := s.owner[name]
	if !ok {
		return nil, false
	}
	return f.Bytes(name)
}

// Float32 converts the named tensor to a new float32 slice (see File.Float32); errors name the shard.
func (s *Set) Float32(name string) ([]float32, error) {
	f, ok := s.owner[name]
	if !ok {
		return nil, fmt.Errorf("safetensors %s: no tensor %q", s.source, name)
	}
	return f.Float32(name)
}

// Float32View returns the named F32 tensor without copying (see File.Float32View).
func (s *Set) Float32View(name string) ([]float32, bool) {
	f, ok := s.owner[name]
	if !ok {
		return nil, false
	}
	return f.Float32View(name)
}

// Close closes every shard and returns the first error.
func (s *Set) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
