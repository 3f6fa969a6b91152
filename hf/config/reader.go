package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// reader extracts typed fields from a decoded JSON object, keeping the first error. A field that
// is absent or null reads as absent, as transformers treats null as "use the default".
type reader struct {
	source string
	prefix string // for nested objects: "rope_scaling."
	fields map[string]json.RawMessage
	err    error
}

// fail records an error about field key unless one is already recorded.
func (r *reader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("config %s: field %q: %s", r.source, r.prefix+key, fmt.Sprintf(format, args...))
	}
}

// value returns the raw value of key, or false when absent or null.
func (r *reader) value(key string) (json.RawMessage, bool) {
	v, ok := r.fields[key]
	if !ok || kind(v) == "null" {
		return nil, false
	}
	return v, true
}

// kind names the JSON type of a raw value.
func kind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '[':
		return "an array"
	case '{':
		return "an object"
	default:
		return "a number"
	}
}

// number reads a JSON number as float64.
func (r *reader) number(key string) (float64, bool) {
	v, ok := r.value(key)
	if !ok {
		return 0, false
	}
	if k := kind(v); k != "a number" {
		r.fail(key, "want a number, got %s", k)
		return 0, false
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
	if err != nil {
		r.fail(key, "number %s out of range", v)
		return 0, false
	}
	return f, true
}

// integer reads a JSON number that must be a whole number (2048 or 2048.0).
func (r *reader) integer(key string) (int, bool) {
	f, ok := r.number(key)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 || float64(int(f)) != f {
		r.fail(key, "want an integer, got %v", f)
		return 0, false
	}
	return int(f), true
}

// required reads an integer that must be present.
func (r *reader) required(key string) int {
	n, ok := r.integer(key)
	if !ok && r.err == nil {
		r.fail(key, "required but missing")
	}
	return n
}

// boolean reads a JSON boolean.
func (r *reader) boolean(key string) (bool, bool) {
	v, ok := r.value(key)
	if !ok {
		return false, false
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		r.fail(key, "want a boolean, got %s", kind(v))
		return false, false
	}
	return b, true
}

// str reads a JSON string.
func (r *reader) str(key string) (string, bool) {
	v, ok := r.value(key)
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		r.fail(key, "want a string, got %s", kind(v))
		return "", false
	}
	return s, true
}

// stringList reads a JSON array of strings.
func (r *reader) stringList(key string) []string {
	v, ok := r.value(key)
	if !ok {
		return nil
	}
	var s []string
	if err := json.Unmarshal(v, &s); err != nil {
		r.fail(key, "want an array of strings, got %s", kind(v))
		return nil
	}
	return s
}

// object returns a reader over a nested JSON object.
func (r *reader) object(key string) (*reader, bool) {
	v, ok := r.value(key)
	if !ok {
		return nil, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(v, &fields); err != nil {
		r.fail(key, "want an object, got %s", kind(v))
		return nil, false
	}
	return &reader{source: r.source, prefix: r.prefix + key + ".", fields: fields}, true
}

// defaultInt reads an optional integer, returning def when absent.
func (r *reader) defaultInt(key string, def int) int {
	if n, ok := r.integer(key); ok {
		return n
	}
	return def
}

// defaultFloat reads an optional number, returning def when absent.
func (r *reader) defaultFloat(key string, def float64) float64 {
	if f, ok := r.number(key); ok {
		return f
	}
	return def
}

// defaultBool reads an optional boolean, returning def when absent.
func (r *reader) defaultBool(key string, def bool) bool {
	if b, ok := r.boolean(key); ok {
		return b
	}
	return def
}
