package flagfile

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// setting is what one key of the file does: call Set with each of vals on the flag.
type setting struct {
	flag *flag.Flag
	vals []string
	e    entry
}

// apply checks every entry against fs and, if all are valid, sets the flags that are not set yet.
func apply(fs *flag.FlagSet, file string, entries []entry) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	seen := map[string]entry{}
	var errs errList
	var todo []setting
	for _, e := range entries {
		f := lookup(fs, e.key)
		switch {
		case f == nil:
			errs = append(errs, errorf(file, e.line, e.key, "unknown flag%s", suggest(fs, e.key)))
			continue
		case f.Name == FlagName && isRegistered(f):
			errs = append(errs, errorf(file, e.line, e.key, "a config file cannot name another config file"))
			continue
		}
		if prev, dup := seen[f.Name]; dup {
			errs = append(errs, errorf(file, e.line, e.key, "duplicate: flag -%s is already set by key %q on line %d", f.Name, prev.key, prev.line))
			continue
		}
		seen[f.Name] = e
		vals, err := convert(f, e.val)
		if err != nil {
			errs = append(errs, &Error{File: file, Line: e.val.line, Key: e.key, Err: err})
			continue
		}
		if !set[f.Name] {
			todo = append(todo, setting{flag: f, vals: vals, e: e})
		}
	}
	if len(errs) > 0 {
		return errs.join()
	}
	for _, s := range todo {
		for _, v := range s.vals {
			if err := fs.Set(s.flag.Name, v); err != nil {
				errs = append(errs, &Error{File: file, Line: s.e.val.line, Key: s.e.key,
					Err: fmt.Errorf("invalid value %q for flag -%s: %w", v, s.flag.Name, err)})
				break
			}
		}
	}
	return errs.join()
}

// isRegistered tells whether f is the flag that Register adds (a string flag).
func isRegistered(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

// lookup finds the flag a key names: the key itself, or with '_' and '-' swapped.
func lookup(fs *flag.FlagSet, key string) *flag.Flag {
	if f := fs.Lookup(key); f != nil {
		return f
	}
	if f := fs.Lookup(strings.ReplaceAll(key, "_", "-")); f != nil {
		return f
	}
	return fs.Lookup(strings.ReplaceAll(key, "-", "_"))
}

// flagType is what a flag accepts, from the dynamic type of its value.
type flagType uint8

const (
	tOther flagType = iota // any scalar; a list sets each item
	tBool
	tInt
	tUint
	tFloat
	tString
	tDuration
)

// want describes the type in error messages.
func (t flagType) want() string {
	return [...]string{"a scalar or a list of scalars", "a boolean (true or false)", "an integer",
		"a non-negative integer", "a number", "a string (or a list of strings, joined with commas)",
		"a duration such as 90s or 1h30m"}[t]
}

// typeOf reads a flag's type from its value: flag.Getter's Get for the standard flag kinds, and
// IsBoolFlag for boolean flags such as flag.BoolFunc.
func typeOf(f *flag.Flag) flagType {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			return tBool
		case int, int64:
			return tInt
		case uint, uint64:
			return tUint
		case float64:
			return tFloat
		case string:
			return tString
		case time.Duration:
			return tDuration
		}
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return tBool
	}
	return tOther
}

// convert checks a value against a flag and returns what to pass to its Set method, in order.
func convert(f *flag.Flag, v value) ([]string, error) {
	t := typeOf(f)
	bad := func() ([]string, error) {
		return nil, fmt.Errorf("expected %s for flag -%s, found %s", t.want(), f.Name, v.describe())
	}
	switch v.kind {
	case kNull:
		return nil, fmt.Errorf("no value; expected %s for flag -%s (leave the key out to keep the default)", t.want(), f.Name)
	case kMap:
		return nil, fmt.Errorf("nested maps are not supported; expected %s for flag -%s", t.want(), f.Name)
	case kList:
		if t != tString && t != tOther {
			return bad()
		}
		vals := make([]string, len(v.items))
		for i, it := range v.items {
			if it.kind == kNull || it.kind == kList || it.kind == kMap {
				return nil, fmt.Errorf("item %d of the list: expected a scalar for flag -%s, found %s", i+1, f.Name, it.kind)
			}
			vals[i] = it.raw
		}
		if t == tString {
			return []string{strings.Join(vals, ",")}, nil
		}
		return vals, nil
	}
	ok := true
	switch t {
	case tBool:
		ok = v.kind == kBool
	case tInt:
		ok = v.kind == kInt
	case tUint:
		ok = v.kind == kInt && !strings.HasPrefix(v.text, "-")
	case tFloat:
		ok = v.kind == kInt || v.kind == kFloat
	case tDuration:
		ok = v.kind == kString || v.kind == kInt
	case tString, tOther:
		return []string{v.raw}, nil
	}
	if !ok {
		return bad()
	}
	return []string{v.text}, nil
}

// suggest names the flag closest to an unknown key, or lists the flags when none is close.
func suggest(fs *flag.FlagSet, key string) string {
	norm := strings.ReplaceAll(strings.ToLower(key), "_", "-")
	best, bestD := "", -1
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == FlagName {
			return
		}
		names = append(names, f.Name)
		if d := distance(norm, f.Name); bestD < 0 || d < bestD {
			best, bestD = f.Name, d
		}
	})
	switch {
	case bestD < 0:
		return " (this command has no flags)"
	case bestD <= max(1, len([]rune(norm))/3) && bestD < len([]rune(norm)):
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return "; the flags are " + strings.Join(names, ", ")
}

// distance is the optimal-string-alignment edit distance between two strings, by runes: the fewest
// insertions, deletions, substitutions and swaps of adjacent runes (no rune edited twice).
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 { // a long key is close to no flag name; bound the work
		ra = ra[:64]
	}
	// Rows i-2, i-1 and i of the dynamic programme.
	pp, prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(rb)]
}
