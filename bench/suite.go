package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Suite is one named benchmark of `eva bench`: a value of this type is all it takes to add one
// (append it to the list in [Suites]).
type Suite struct {
	// Name is how `eva bench run NAME` selects the suite and the base name of its output files:
	// lower case letters, digits and '-'.
	Name string
	// Description is a one-line summary for `eva bench list`.
	Description string
	// Run performs the benchmark. It should honour ctx's cancellation and write progress (not
	// results) to opts.Log.
	Run func(ctx context.Context, opts Options) (Results, error)
}

// Options are the settings every suite accepts.
type Options struct {
	// Seeds is the number of seeds per configuration; 0 selects the suite's default.
	Seeds int
	// Quick selects a reduced configuration that runs in seconds (smoke tests, CI).
	Quick bool
	// Log receives progress lines (nil = silent).
	Log io.Writer
	// Model and DataDir point suites that train real models elsewhere than the house model and the
	// datasets cache.
	Model, DataDir string
	// Shard and Shards split a grid suite's runs over processes: this process runs the runs whose
	// index modulo Shards is Shard (Shards 0 or 1: all). `eva bench merge` joins the parts.
	Shard, Shards int
	// Resume is an earlier, unfinished result of the same grid suite and shard (a killed run): its
	// runs are kept and not run again, provided its settings equal this run's.
	Resume *GridResults
	// Checkpoint, when set, receives a grid suite's results so far after every finished run, so
	// that a killed suite can continue from them (see Resume).
	Checkpoint func(*GridResults) error
}

// Results are what a suite measured. encoding/json writes the value (SUITE.json), so its fields
// should be exported and tagged; Markdown renders the human-readable report (SUITE.md): settings,
// tables and conclusions.
type Results interface {
	Markdown() string
}

// suites is the registry, in the order `eva bench list` shows. Add a suite by adding its value here.
var suites = []Suite{
	syntheticSuite,
	rankGrid.suite(),
	calibrationGrid.suite(),
	directionsGrid.suite(),
	overheadSuite,
}

// Suites returns the registered suites in listing order.
func Suites() []Suite { return slices.Clone(suites) }

// LookupSuite returns the suite called name, or an error listing the known names.
func LookupSuite(name string) (Suite, error) {
	names := make([]string, len(suites))
	for i, s := range suites {
		if s.Name == name {
			return s, nil
		}
		names[i] = s.Name
	}
	return Suite{}, fmt.Errorf("unknown benchmark suite %q (known: %s)", name, strings.Join(names, ", "))
}

// Float is a float64 that encodes NaN and ±Inf (a diverged run, a target never reached) as JSON
// null instead of failing the whole encoding.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler; null decodes as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("bench: %q is not a number: %w", b, err)
	}
	*f = Float(v)
	return nil
}
