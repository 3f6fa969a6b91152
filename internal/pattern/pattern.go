// Package pattern implements PEFT's per-layer overrides (rank_pattern, alpha_pattern): a key is a
// regular expression that matches a module name when ^(.*\.)?(key)$ does.
package pattern

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
)

// Pattern is a compiled rank or alpha pattern.
type Pattern[V comparable] struct {
	what  string // "rank pattern" or "alpha pattern", for errors
	keys  []string
	exprs []*regexp.Regexp
	vals  map[string]V
}

// Compile compiles every key of m as PEFT matches it: ^(.*\.)?(key)$ on the module name. what
// ("rank pattern") names the pattern in errors.
func Compile[V comparable](what string, m map[string]V) (*Pattern[V], error) {
	return CompileOrdered(what, slices.Sorted(maps.Keys(m)), m)
}

// CompileOrdered is Compile with the keys of m in the given order, the order First tries them in
// (PEFT takes the first matching key in its file's order when it loads an adapter).
func CompileOrdered[V comparable](what string, keys []string, m map[string]V) (*Pattern[V], error) {
	p := &Pattern[V]{what: what, keys: keys, vals: m}
	for _, k := range p.keys {
		re, err := regexp.Compile(`^(?:.*\.)?(?:` + k + `)$`)
		if err != nil {
			return nil, fmt.Errorf("%s key %q is not a regular expression Go accepts: %v", what, k, err)
		}
		p.exprs = append(p.exprs, re)
	}
	return p, nil
}

// Lookup returns the value for layer name, or def when no key matches. A key equal to the name
// wins; otherwise all matching keys must agree.
func (p *Pattern[V]) Lookup(name string, def V) (V, error) {
	if v, ok := p.vals[name]; ok {
		return v, nil
	}
	var (
		found bool
		first string
		val   V
	)
	for i, re := range p.exprs {
		if !re.MatchString(name) {
			continue
		}
		k := p.keys[i]
		if !found {
			found, first, val = true, k, p.vals[k]
			continue
		}
		if p.vals[k] != val {
			return def, fmt.Errorf("layer %s: %s keys %q (%v) and %q (%v) both match; give the full layer name",
				name, p.what, first, val, k, p.vals[k])
		}
	}
	if !found {
		return def, nil
	}
	return val, nil
}

// First returns the first key, in the pattern's order, that matches name, and its value.
func (p *Pattern[V]) First(name string) (key string, v V, ok bool) {
	for i, re := range p.exprs {
		if re.MatchString(name) {
			return p.keys[i], p.vals[p.keys[i]], true
		}
	}
	return "", v, false
}
