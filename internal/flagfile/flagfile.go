// Package flagfile lets a YAML or JSON config file stand in for command-line flags of a standard
// library flag.FlagSet; flags given on the command line win over the file.
//
// The file is a map from flag names to values:
//
//	model: ./checkpoints/llama
//	batch_size: 8          # "batch_size" and "batch-size" both name -batch-size
//	targets: [q_proj, v_proj]
//
// Values are checked against the flag's type (taken from its default value through flag.Getter)
// and then handed to the flag's own Set method, so every validation stays with the flag. A list
// given for a string flag is joined with commas; a list given for a flag of another kind (a
// flag.Func, say) calls Set once per item, as repeating the flag on the command line would. Unknown
// keys, duplicate keys, nested maps and values of the wrong type are errors naming the file, the
// line and the key.
//
// A command supports config files with one line at flag-declaration time, Register(fs), provided its
// caller parses with Load(fs, args) instead of fs.Parse(args).
package flagfile

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FlagName is the name of the flag that Register adds: --config FILE.
const FlagName = "config"

// Register adds --config FILE to fs. It panics, as flag does, if fs already has a flag of that name.
func Register(fs *flag.FlagSet) {
	fs.String(FlagName, "", "read flags from a YAML or JSON `file` (keys are flag names; the command line wins)")
}

// Load parses args into fs and then, when fs has the --config flag of Register and it was given,
// applies that file with Apply. Parse errors are handled by fs as usual. A config file error is
// written to fs.Output() and then treated according to fs.ErrorHandling(): returned
// (ContinueOnError), os.Exit(2) (ExitOnError) or a panic (PanicOnError), like a parse error.
// Without the --config flag, Load is fs.Parse(args).
func Load(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	f := fs.Lookup(FlagName)
	if f == nil || f.Value.String() == "" {
		return nil
	}
	err := Apply(fs, f.Value.String())
	if err == nil {
		return nil
	}
	fmt.Fprintln(fs.Output(), err)
	switch fs.ErrorHandling() {
	case flag.ExitOnError:
		os.Exit(2)
	case flag.PanicOnError:
		panic(err)
	}
	return err
}

// Apply reads the config file at path and sets every flag of fs named in it that was not set
// before (on the command line: fs.Visit's flags) through fs.Set. The format is YAML for .yaml and
// .yml files, JSON for .json files, and otherwise JSON when the file starts with '{' and parses as
// JSON, YAML else. Nothing is set unless every key of the file names a flag once with a value of
// the right type; all such problems are reported together (errors.Join of *Error values, one a
// line). Keys for flags that were already set are checked but not applied. A value that the flag's
// own Set rejects is reported too (the *Error wraps Set's error) while the other keys are set, so
// the caller should stop on any error. Lines of YAML syntax errors come from the yaml package,
// corrected for its 0-based parser lines (see yamlParserProblems).
func Apply(fs *flag.FlagSet, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return applyData(fs, path, data)
}

// applyData is Apply on the contents of a file.
func applyData(fs *flag.FlagSet, path string, data []byte) error {
	entries, err := parse(path, data)
	if err != nil {
		return err
	}
	return apply(fs, path, entries)
}

// parse picks the format of a file from its name or contents and reads its top-level entries.
func parse(path string, data []byte) ([]entry, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return parseYAML(path, data)
	case ".json":
		return parseJSON(path, data)
	}
	if strings.HasPrefix(strings.TrimLeft(string(trimBOM(data)), " \t\r\n"), "{") {
		entries, err := parseJSON(path, data)
		if err == nil {
			return entries, nil
		}
		if y, yerr := parseYAML(path, data); yerr == nil { // a YAML flow map such as {r: 8}
			return y, nil
		}
		return nil, err
	}
	return parseYAML(path, data)
}

// Error is one problem in a config file: at a line (0 when unknown) and a key ("" when the problem
// is not about one key).
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

// Error formats the problem as "file:line: key "k": problem".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem, such as the error of a flag's Set method.
func (e *Error) Unwrap() error { return e.Err }

// errorf makes an *Error.
func errorf(file string, line int, key, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Key: key, Err: fmt.Errorf(format, args...)}
}

// errList collects problems and joins them.
type errList []error

func (l errList) join() error { return errors.Join(l...) }
