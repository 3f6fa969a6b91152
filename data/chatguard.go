package data

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/ardanlabs/jinja"
)

// Guards that keep a chat template (a file a user hands us, inside tokenizer_config.json) from
// hanging or crashing eva, where Hugging Face's sandboxed Jinja2 environment stops it with an
// exception: range() is held to the sandbox's limit, and recursive macros — which Python stops at
// its recursion limit but which overflow the Go stack of the template engine, a fatal error — are
// refused when the template is compiled. A template can still build huge strings (for example by
// repeated doubling), which neither environment stops.

// maxRange is the most items range() gives, Jinja2's sandbox MAX_RANGE.
const maxRange = 100_000

// sandboxRange is Python's range(stop), range(start, stop) or range(start, stop, step) on
// integers, an error past maxRange items.
var sandboxRange = jinja.NewCallable("range", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	if len(args) < 1 || len(args) > 3 {
		return jinja.Undefined(), fmt.Errorf("range: expected 1 to 3 arguments, got %d", len(args))
	}
	ints := make([]int64, len(args))
	for i, a := range args {
		switch {
		case a.IsInt():
			ints[i] = a.AsInt()
		case a.IsBool() && a.AsBool():
			ints[i] = 1
		case a.IsBool():
		default:
			return jinja.Undefined(), fmt.Errorf("range: argument %d is %s, not an integer", i+1, a)
		}
	}
	start, stop, step := int64(0), ints[0], int64(1)
	if len(ints) > 1 {
		start, stop = ints[0], ints[1]
	}
	if len(ints) == 3 {
		step = ints[2]
	}
	if step == 0 {
		return jinja.Undefined(), fmt.Errorf("range: step must not be zero")
	}
	n := 0.0 // items, in float64 so that extreme bounds cannot overflow
	if span := float64(stop) - float64(start); span != 0 && (span > 0) == (step > 0) {
		n = math.Ceil(span / float64(step))
	}
	if n > maxRange {
		return jinja.Undefined(), fmt.Errorf("range of %.0f items: more than %d, the limit of the sandbox Hugging Face renders chat templates in", n, maxRange)
	}
	items := make([]jinja.Value, int(n))
	for i := range items {
		items[i] = jinja.NewInt(start + int64(i)*step)
	}
	return jinja.NewList(items), nil
})

var (
	macroDef  = regexp.MustCompile(`\{%-?\s*macro\s+(\w+)\s*\(`)
	macroEnd  = regexp.MustCompile(`\{%-?\s*endmacro\b`)
	macroCall = regexp.MustCompile(`\b(\w+)\s*\(`)
)

// checkMacroRecursion refuses a template whose macros call themselves, directly or through each
// other: each macro's body (up to its endmacro) is searched for calls of the template's macros.
func checkMacroRecursion(src string) error {
	calls := map[string][]string{} // macro → the names it calls
	for _, d := range macroDef.FindAllStringSubmatchIndex(src, -1) {
		name, body := src[d[2]:d[3]], src[d[1]:]
		if end := macroEnd.FindStringIndex(body); end != nil {
			body = body[:end[0]]
		}
		if _, ok := calls[name]; !ok {
			calls[name] = nil // a macro, even when it calls nothing
		}
		for _, c := range macroCall.FindAllStringSubmatch(body, -1) {
			calls[name] = append(calls[name], c[1])
		}
	}
	// Depth-first search for a cycle among the macros.
	const open, done = 1, 2
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case open:
			cycle := append(path[slices.Index(path, name):], name)
			return fmt.Errorf("macro %s calls itself (%s): recursive macros are not supported", name, strings.Join(cycle, " → "))
		case done:
			return nil
		}
		state[name] = open
		for _, callee := range calls[name] {
			if _, isMacro := calls[callee]; isMacro {
				if err := visit(callee, append(path, name)); err != nil {
					return err
				}
			}
		}
		state[name] = done
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(calls)) {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}
