package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Float is a float64 that survives JSON when it is not finite: NaN and ±Inf are written as the
// strings "NaN", "Infinity" and "-Infinity" (which Python's float() reads), finite values as numbers.
// A diverging run's last loss is then still on record.
type Float float64

// MarshalJSON writes finite values as JSON numbers and the others as strings.
func (f Float) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Float) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = Float(math.NaN())
	case `"Infinity"`:
		*f = Float(math.Inf(1))
	case `"-Infinity"`:
		*f = Float(math.Inf(-1))
	default:
		x, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("not a number: %s", b)
		}
		*f = Float(x)
	}
	return nil
}

// Opt returns a pointer to x as a Float, for the optional fields of Event.
func Opt(x float64) *Float { f := Float(x); return &f }

// Event is one line of a metrics file. Step is the number of optimizer updates completed when the
// event was logged; the optional fields are present only when set (a training event carries loss,
// lr, grad_norm and throughput, an evaluation event eval_loss).
type Event struct {
	Step  int   `json:"step"`
	Epoch Float `json:"epoch"`
	// Loss is the mean training loss over the logging interval; LR the learning rate used by the
	// last update; GradNorm its pre-clip global gradient norm.
	Loss     *Float `json:"loss,omitempty"`
	LR       *Float `json:"lr,omitempty"`
	GradNorm *Float `json:"grad_norm,omitempty"`
	// Tokens counts the training tokens seen so far; TokensPerS is the recent throughput.
	Tokens     int64  `json:"tokens,omitempty"`
	TokensPerS *Float `json:"tokens_per_s,omitempty"`
	// EvalLoss is the mean loss on the evaluation set.
	EvalLoss *Float `json:"eval_loss,omitempty"`
	// ElapsedS is the wall time since the run started, in seconds.
	ElapsedS *Float `json:"elapsed_s,omitempty"`
	// Extra holds further named values (eval_accuracy, peak memory, …).
	Extra map[string]Float `json:"extra,omitempty"`
}

// MetricsWriter appends events to a JSONL file, one JSON object per line. Each line goes to the
// operating system as soon as it is written (no user-space buffer), so a crash loses at most the
// line being written; Close also syncs the file to disk.
type MetricsWriter struct {
	f    *os.File
	path string
}

// CreateMetrics starts a new metrics file at path, replacing any file there.
func CreateMetrics(path string) (*MetricsWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &MetricsWriter{f: f, path: path}, nil
}

// ResumeMetrics reopens the metrics file of an interrupted run for appending, after dropping every
// event with Step > afterStep (logged after the checkpoint the run resumes from, so the resumed
// run would log them again) and a torn last line. The kept lines are rewritten atomically (temporary
// file, fsync, rename) byte for byte. A missing file is created empty.
func ResumeMetrics(path string, afterStep int) (*MetricsWriter, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return CreateMetrics(path)
	} else if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	var kept bytes.Buffer
	err = scanEvents(path, bytes.NewReader(data), func(e Event, line []byte) {
		if e.Step <= afterStep {
			kept.Write(line)
			kept.WriteByte('\n')
		}
	})
	if err != nil {
		return nil, err
	}
	if err := replaceFile(path, kept.Bytes()); err != nil {
		return nil, fmt.Errorf("metrics: rewrite %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &MetricsWriter{f: f, path: path}, nil
}

// Write appends one event as a line.
func (w *MetricsWriter) Write(e Event) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("metrics %s: step %d: %w", w.path, e.Step, err)
	}
	if _, err := w.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Close syncs and closes the file.
func (w *MetricsWriter) Close() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// ReadMetrics reads every event of a metrics file. A last line without its newline that does not
// parse (a write cut short by a crash) is ignored; any other bad line is an error naming it.
func ReadMetrics(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer f.Close()
	var events []Event
	err = scanEvents(path, f, func(e Event, _ []byte) { events = append(events, e) })
	return events, err
}

// scanEvents parses r line by line and calls keep with each event and its line (without the
// newline). Blank lines are skipped.
func scanEvents(path string, r io.Reader, keep func(Event, []byte)) error {
	br := bufio.NewReader(r)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("metrics: read %s: %w", path, err)
		}
		complete := len(line) > 0 && line[len(line)-1] == '\n'
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			var e Event
			if perr := json.Unmarshal(line, &e); perr != nil {
				if !complete { // torn final write
					return nil
				}
				return fmt.Errorf("metrics: %s:%d: %w", path, lineNo, perr)
			}
			keep(e, line)
		}
		if err == io.EOF {
			return nil
		}
	}
}

// replaceFile writes data to path atomically: a temporary file in the same directory, synced, then
// renamed over path, then the directory synced.
func replaceFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
