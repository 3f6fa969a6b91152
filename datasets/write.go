package datasets

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/eva-lora/eva/internal/atomicdir"
)

// textRec is one corpus line: {"text": ..., "id": ...}.
type textRec struct {
	Text string `json:"text"`
	ID   string `json:"id"`
}

// taskRec is one task line. Answers lists every accepted answer where there are several (quiz);
// Level is the difficulty of generated problems (arithmetic).
type taskRec struct {
	Prompt     string   `json:"prompt"`
	Completion string   `json:"completion"`
	ID         string   `json:"id"`
	Answers    []string `json:"answers,omitempty"`
	Level      int      `json:"level,omitempty"`
}

// Meta is the metadata file NAME.meta.json written beside a dataset's JSONL files.
type Meta struct {
	Name        string       `json:"name"`
	Kind        Kind         `json:"kind"`
	Description string       `json:"description"`
	License     string       `json:"license"`
	Sources     []MetaSource `json:"sources"`
	Seed        uint64       `json:"seed"`
	// Files maps each JSONL file name to its number of lines.
	Files map[string]int `json:"files"`
	// Labels are the completion strings of a classification task, sorted (empty for open answers).
	Labels []string `json:"labels,omitempty"`
	// LabelCounts maps split → label → lines, for classification tasks.
	LabelCounts map[string]map[string]int `json:"label_counts,omitempty"`
	// Notes says how the data was made: units, truncation, what was left out and why.
	Notes []string `json:"notes,omitempty"`
}

// MetaSource is a source package as recorded in Meta.
type MetaSource struct {
	Package  string   `json:"package"`
	Registry Registry `json:"registry"`
	Version  string   `json:"version"`
	License  string   `json:"license"`
}

// ReadMeta reads a NAME.meta.json file.
func ReadMeta(path string) (*Meta, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// builder is what a dataset's build function writes through: files go to a temporary directory
// that Prepare moves into place when all are written.
type builder struct {
	ds    Dataset
	dir   string
	seed  uint64
	loc   locator
	files []File
	meta  Meta
}

// Prepare converts the dataset's installed sources into JSONL files in outDir (CacheDir() when
// empty) and returns them with their line and character counts, the metadata file last. Files
// are written to a temporary directory and renamed into outDir only when all are complete. A
// source that is not installed is a *MissingError (all of them joined) naming the install
// command.
func (d Dataset) Prepare(outDir string, opts Options) ([]File, error) {
	if outDir == "" {
		outDir = CacheDir()
	}
	if errs := d.Missing(opts); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// With outDir in place, atomicdir renames file by file, so concurrent Prepare calls into one
	// new directory do not race to rename theirs into place.
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	b := &builder{ds: d, seed: opts.Seed, loc: newLocator(d.Name, opts)}
	b.meta = Meta{Name: d.Name, Kind: d.Kind, Description: d.Description, License: d.License,
		Seed: opts.Seed, Files: map[string]int{}}
	for _, s := range d.Sources {
		b.meta.Sources = append(b.meta.Sources, MetaSource{s.Package, s.Registry, s.Version, s.License})
	}
	err := atomicdir.Write(outDir, func(tmp string) error {
		b.dir = tmp
		if err := d.build(b); err != nil {
			return fmt.Errorf("dataset %s: %w", d.Name, err)
		}
		return b.writeJSON(d.Name+".meta.json", b.meta)
	})
	if err != nil {
		return nil, err
	}
	for i := range b.files {
		b.files[i].Path = filepath.Join(outDir, b.files[i].Path)
	}
	return b.files, nil
}

// find returns the installed path of a source.
func (b *builder) find(s Source) (string, error) { return b.loc.find(s) }

// note adds a line to the metadata's notes.
func (b *builder) note(format string, args ...any) {
	b.meta.Notes = append(b.meta.Notes, fmt.Sprintf(format, args...))
}

// writeText writes corpus lines to name.
func (b *builder) writeText(name string, recs []textRec) error {
	chars := 0
	for _, r := range recs {
		chars += runes(r.Text)
	}
	return b.writeLines(name, len(recs), chars, func(enc *json.Encoder) error {
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeTask writes task lines to name and, for classification tasks (labels non-empty), counts
// the labels of the split into the metadata.
func (b *builder) writeTask(name, split string, recs []taskRec, classify bool) error {
	chars := 0
	counts := map[string]int{}
	for _, r := range recs {
		chars += runes(r.Prompt) + runes(r.Completion)
		counts[r.Completion]++
	}
	if classify {
		if b.meta.LabelCounts == nil {
			b.meta.LabelCounts = map[string]map[string]int{}
		}
		b.meta.LabelCounts[split] = counts
		for l := range counts {
			if !slices.Contains(b.meta.Labels, l) {
				b.meta.Labels = append(b.meta.Labels, l)
			}
		}
		slices.Sort(b.meta.Labels)
	}
	return b.writeLines(name, len(recs), chars, func(enc *json.Encoder) error {
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeLines creates name in the temporary directory, lets fill encode the lines and records it.
func (b *builder) writeLines(name string, lines, chars int, fill func(*json.Encoder) error) error {
	f, err := os.Create(filepath.Join(b.dir, name))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err = fill(enc)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	b.files = append(b.files, File{Path: name, Lines: lines, Chars: chars})
	b.meta.Files[name] = lines
	return nil
}

// writeJSON writes v as indented JSON to name and records it.
func (b *builder) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, name), append(data, '\n'), 0o644); err != nil {
		return err
	}
	b.files = append(b.files, File{Path: name})
	return nil
}
