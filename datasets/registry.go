package datasets

import (
	"fmt"
	"slices"
	"strings"
)

// Kind says what a dataset's lines are.
type Kind string

const (
	// Corpus datasets are {"text": ...} lines for language-model pretraining.
	Corpus Kind = "corpus"
	// Task datasets are {"prompt": ..., "completion": ...} lines in train/valid/test files.
	Task Kind = "task"
)

// Options controls Prepare.
type Options struct {
	// Seed orders the lines and draws generated problems; splits do not depend on it.
	Seed uint64
	// SourceRoots replaces SourceRoots() (EVA_DATA_SOURCES or the defaults) when not nil.
	SourceRoots []string
}

// File is one output file of Prepare.
type File struct {
	// Path is where the file was written.
	Path string
	// Lines is the number of JSONL lines (0 for the metadata file).
	Lines int
	// Chars is the number of characters (runes) of text in the lines: the "text" of corpus lines,
	// prompt plus completion of task lines.
	Chars int
}

// Dataset is one named dataset of the registry.
type Dataset struct {
	// Name is what `eva data prepare` takes.
	Name string
	// Kind is Corpus or Task.
	Kind Kind
	// Description says what the lines hold, in one sentence.
	Description string
	// License sums up the licences of the data.
	License string
	// Sources are the packages the dataset is converted from (none for generated data).
	Sources []Source
	// build writes the dataset's files through w.
	build func(b *builder) error
}

// Missing returns one *MissingError per source that is not installed (nil when all are).
func (d Dataset) Missing(opts Options) []error {
	loc := newLocator(d.Name, opts)
	var errs []error
	for _, s := range d.Sources {
		if _, err := loc.find(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// newLocator returns the locator of opts' roots for the named dataset.
func newLocator(name string, opts Options) locator {
	roots := opts.SourceRoots
	if roots == nil {
		roots = SourceRoots()
	}
	return locator{dataset: name, roots: roots}
}

// registry holds every dataset by name; init fills it from the files that define them.
var registry = map[string]Dataset{}

// register adds d to the registry; a duplicate name is a programming error.
func register(d Dataset) {
	if _, dup := registry[d.Name]; dup {
		panic("datasets: duplicate dataset " + d.Name)
	}
	registry[d.Name] = d
}

// Names returns the registered dataset names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Get returns the named dataset.
func Get(name string) (Dataset, error) {
	d, ok := registry[name]
	if !ok {
		return Dataset{}, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return d, nil
}
