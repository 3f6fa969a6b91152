package flagfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// kind is the type of a value as written in the file.
type kind uint8

const (
	kNull kind = iota
	kBool
	kInt
	kFloat
	kString
	kList
	kMap
)

// String describes the kind for error messages.
func (k kind) String() string {
	return [...]string{"null", "a boolean", "an integer", "a float", "a string", "a list", "a map"}[k]
}

// value is one value of the file, format-independent. Lists hold their items (each without nested
// content); maps hold nothing, they are only reported.
type value struct {
	kind  kind
	text  string // canonical form for Set: "true", "16" for 0x10, "+Inf" for .inf
	raw   string // as written, for string flags and messages
	line  int
	items []value
}

// entry is one top-level key of the file.
type entry struct {
	key  string
	line int
	val  value
}

// parseYAML reads the top-level map of a YAML document.
func parseYAML(file string, data []byte) ([]entry, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(file, data, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(file, data, err)
		}
		return nil, errorf(file, next.Line, "", "a config file holds one YAML document, found a second")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	top := deref(doc.Content[0])
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		return nil, nil // only comments
	}
	if top.Kind != yaml.MappingNode {
		return nil, errorf(file, top.Line, "", "the file must be a map of flag names to values, found %s", yamlValue(file, top).kind)
	}
	var errs errList
	entries := make([]entry, 0, len(top.Content)/2)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := deref(top.Content[i]), top.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			errs = append(errs, errorf(file, k.Line, "", "a key must be a flag name, found %s", yamlValue(file, k).kind))
			continue
		case k.ShortTag() == "!!merge":
			errs = append(errs, errorf(file, k.Line, k.Value, "merge keys are not supported"))
			continue
		}
		val := yamlValue(file, deref(v))
		val.line = v.Line
		if val.kind == kList {
			for _, it := range deref(v).Content {
				item := yamlValue(file, deref(it))
				item.line = it.Line
				val.items = append(val.items, item)
			}
		}
		entries = append(entries, entry{key: k.Value, line: k.Line, val: val})
	}
	if len(errs) > 0 {
		return nil, errs.join()
	}
	return entries, nil
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// yamlValue converts one node, without the items of a list.
func yamlValue(file string, n *yaml.Node) value {
	v := value{raw: n.Value, text: n.Value, line: n.Line, kind: kString}
	switch n.Kind {
	case yaml.SequenceNode:
		v.kind, v.raw, v.text = kList, "", ""
		return v
	case yaml.MappingNode:
		v.kind, v.raw, v.text = kMap, "", ""
		return v
	case yaml.ScalarNode:
	default:
		v.kind = kNull // an unresolved alias
		return v
	}
	switch n.ShortTag() {
	case "!!null":
		v.kind = kNull
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			v.kind, v.text = kBool, strconv.FormatBool(b)
		}
	case "!!int":
		var i any
		if n.Decode(&i) == nil {
			switch x := i.(type) {
			case int:
				v.kind, v.text = kInt, strconv.Itoa(x)
			case int64:
				v.kind, v.text = kInt, strconv.FormatInt(x, 10)
			case uint64:
				v.kind, v.text = kInt, strconv.FormatUint(x, 10)
			}
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			v.kind, v.text = kFloat, strconv.FormatFloat(f, 'g', -1, 64)
		}
	}
	return v
}

// yamlLine matches the line number that the yaml package puts into its messages.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlParserProblems are the messages of go.yaml.in/yaml/v3's parser errors (parserc.go). For
// these, v3.0.6 reports the 0-based line of the enclosing collection's start (or of the problem
// when that is 0), and no line at all for the first line; scanner errors carry 1-based lines. A
// test pins the correction, so a change in the library shows.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// yamlError turns a YAML syntax error into an *Error with a 1-based line, at most the file's last
// (the end of the stream counts as one line further).
func yamlError(file string, data []byte, err error) error {
	msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = err.Error()[len(m[0]):]
	}
	if yamlParserProblems[msg] {
		line++
	}
	last := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		last++
	}
	line = min(line, max(last, 1))
	return errorf(file, line, "", "invalid YAML: %s", msg)
}

// trimBOM drops a UTF-8 byte order mark.
func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) }

// jsonReader walks a JSON document token by token, knowing the line of each.
type jsonReader struct {
	file string
	data []byte
	dec  *json.Decoder
	off  int64 // lines counted up to here
	n    int   // newlines before off
}

// parseJSON reads the top-level object of a JSON document. Lines are those where each key and
// value ends (a JSON token never spans lines).
func parseJSON(file string, data []byte) ([]entry, error) {
	data = trimBOM(data)
	r := &jsonReader{file: file, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	r.dec.UseNumber()
	tok, line, err := r.token()
	if err != nil {
		return nil, err
	}
	if tok == nil { // null: no settings
		return nil, r.end()
	}
	if tok != json.Delim('{') {
		v, err := r.value(tok, line, false)
		if err != nil {
			return nil, err
		}
		return nil, errorf(file, line, "", "the file must be an object of flag names to values, found %s", v.kind)
	}
	var entries []entry
	for r.dec.More() {
		tok, kline, err := r.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // the decoder only yields strings as object keys
		tok, vline, err := r.token()
		if err != nil {
			return nil, err
		}
		val, err := r.value(tok, vline, true)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{key: key, line: kline, val: val})
	}
	if _, _, err := r.token(); err != nil { // the closing brace
		return nil, err
	}
	return entries, r.end()
}

// token reads the next token and the line it ends on.
func (r *jsonReader) token() (json.Token, int, error) {
	tok, err := r.dec.Token()
	off := r.dec.InputOffset()
	if err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			off = syn.Offset
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, 0, errorf(r.file, r.line(int64(len(r.data))), "", "invalid JSON: unexpected end of file")
		}
		return nil, 0, errorf(r.file, r.line(off), "", "invalid JSON: %v", err)
	}
	return tok, r.line(off), nil
}

// line is the line of a byte offset. Offsets mostly grow, so lines are counted incrementally.
func (r *jsonReader) line(off int64) int {
	off = min(max(off, 0), int64(len(r.data)))
	if off < r.off {
		r.off, r.n = 0, 0
	}
	r.n += bytes.Count(r.data[r.off:off], []byte{'\n'})
	r.off = off
	return 1 + r.n
}

// end checks that nothing follows the document.
func (r *jsonReader) end() error {
	tok, err := r.dec.Token()
	if errors.Is(err, io.EOF) {
		return nil
	}
	line := r.line(r.dec.InputOffset())
	if err != nil {
		return errorf(r.file, line, "", "invalid JSON: %v", err)
	}
	return errorf(r.file, line, "", "unexpected %v after the top-level object", tok)
}

// value converts the value that starts with tok. Lists keep their items when items is set; the
// content of nested containers is skipped.
func (r *jsonReader) value(tok json.Token, line int, items bool) (value, error) {
	switch t := tok.(type) {
	case nil:
		return value{kind: kNull, raw: "null", text: "null", line: line}, nil
	case bool:
		s := strconv.FormatBool(t)
		return value{kind: kBool, raw: s, text: s, line: line}, nil
	case json.Number:
		k := kInt
		if strings.ContainsAny(string(t), ".eE") {
			k = kFloat
		}
		return value{kind: k, raw: string(t), text: string(t), line: line}, nil
	case string:
		return value{kind: kString, raw: t, text: t, line: line}, nil
	case json.Delim:
		if t == '{' {
			return value{kind: kMap, line: line}, r.skip()
		}
		v := value{kind: kList, line: line}
		if !items {
			return v, r.skip()
		}
		for r.dec.More() {
			tok, l, err := r.token()
			if err != nil {
				return v, err
			}
			it, err := r.value(tok, l, false)
			if err != nil {
				return v, err
			}
			v.items = append(v.items, it)
		}
		_, _, err := r.token() // the closing bracket
		return v, err
	}
	return value{}, errorf(r.file, line, "", "invalid JSON: unexpected %v", tok)
}

// skip reads up to the end of the container whose opening delimiter was just read.
func (r *jsonReader) skip() error {
	for depth := 1; depth > 0; {
		tok, _, err := r.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// describe shows a value in a message: its kind and, for scalars, its text.
func (v value) describe() string {
	switch v.kind {
	case kNull, kList, kMap:
		return v.kind.String()
	}
	raw := v.raw
	if len(raw) > 40 {
		raw = raw[:37] + "..."
	}
	return fmt.Sprintf("%s (%q)", v.kind, raw)
}
