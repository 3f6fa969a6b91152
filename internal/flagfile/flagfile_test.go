package flagfile

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// errRejected is what the "tag" flag's Set returns for the value "bad".
var errRejected = errors.New("tag rejected")

// opts holds the values of a test FlagSet that covers every kind of flag.
type opts struct {
	model, targets string
	r, batch       int
	seed           uint64
	alpha          float64
	whiten         bool
	timeout        time.Duration
	tags           []string
	verbose        []string
}

func newFS(t testing.TB) (*flag.FlagSet, *opts) {
	t.Helper()
	o := &opts{}
	fs := flag.NewFlagSet("eva test", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	Register(fs)
	fs.StringVar(&o.model, "model", "", "")
	fs.StringVar(&o.targets, "targets", "all-linear", "")
	fs.IntVar(&o.r, "r", 16, "")
	fs.IntVar(&o.batch, "batch-size", 4, "")
	fs.Uint64Var(&o.seed, "seed", 0, "")
	fs.Float64Var(&o.alpha, "alpha", 1, "")
	fs.BoolVar(&o.whiten, "whiten", false, "")
	fs.DurationVar(&o.timeout, "timeout", 0, "")
	fs.Func("tag", "repeatable", func(s string) error {
		if s == "bad" {
			return errRejected
		}
		o.tags = append(o.tags, s)
		return nil
	})
	fs.BoolFunc("verbose", "", func(s string) error { o.verbose = append(o.verbose, s); return nil })
	return fs, o
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const fullYAML = `# every kind of flag
model: ./ckpt        # a string
targets: [q_proj, v_proj]
r: 0x20
batch_size: 8
seed: 18446744073709551615
alpha: 1e-3
whiten: true
timeout: 1m30s
tag:
  - one
  - 2
verbose: true
`

const fullJSON = `{
  "model": "./ckpt",
  "targets": ["q_proj", "v_proj"],
  "r": 32,
  "batch-size": 8,
  "seed": 18446744073709551615,
  "alpha": 0.001,
  "whiten": true,
  "timeout": "1m30s",
  "tag": ["one", 2],
  "verbose": true
}`

var fullWant = opts{model: "./ckpt", targets: "q_proj,v_proj", r: 32, batch: 8, seed: 1<<64 - 1, alpha: 1e-3,
	whiten: true, timeout: 90 * time.Second, tags: []string{"one", "2"}, verbose: []string{"true"}}

func TestApplyYAMLAndJSON(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"c.yaml", fullYAML}, {"c.yml", fullYAML}, {"c.json", fullJSON},
		{"yaml-sniffed", fullYAML}, {"json-sniffed", fullJSON}, {"c.conf", "\xef\xbb\xbf" + fullJSON},
	} {
		fs, o := newFS(t)
		if err := Apply(fs, write(t, tc.name, tc.content)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(*o, fullWant) {
			t.Errorf("%s: got %+v\nwant %+v", tc.name, *o, fullWant)
		}
		// Every key counts as set afterwards, as with fs.Set.
		n := 0
		fs.Visit(func(*flag.Flag) { n++ })
		if n != 10 {
			t.Errorf("%s: %d flags marked set, want 10", tc.name, n)
		}
	}
}

func TestFlagsWinOverFile(t *testing.T) {
	cfg := write(t, "c.yaml", "r: 8\nwhiten: true\nalpha: 3\ntargets: [a, b]\ntag: [x, y]\n")
	fs, o := newFS(t)
	// --r given with its default value still wins; --config may come anywhere among the flags.
	args := []string{"--r", "16", "--config", cfg, "--whiten=false", "--tag", "cli", "pos"}
	if err := Load(fs, args); err != nil {
		t.Fatal(err)
	}
	if o.r != 16 || o.whiten || o.alpha != 3 || o.targets != "a,b" {
		t.Errorf("got r=%d whiten=%v alpha=%v targets=%q, want 16 false 3 \"a,b\"", o.r, o.whiten, o.alpha, o.targets)
	}
	if !reflect.DeepEqual(o.tags, []string{"cli"}) {
		t.Errorf("tags = %q, want only the command line's", o.tags)
	}
	if !reflect.DeepEqual(fs.Args(), []string{"pos"}) {
		t.Errorf("args = %q", fs.Args())
	}
}

func TestSecondApplyDoesNotOverride(t *testing.T) {
	fs, o := newFS(t)
	if err := Apply(fs, write(t, "a.yaml", "r: 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := Apply(fs, write(t, "b.yaml", "r: 2\nalpha: 5\n")); err != nil {
		t.Fatal(err)
	}
	if o.r != 1 || o.alpha != 5 {
		t.Errorf("r=%d alpha=%v, want 1 5", o.r, o.alpha)
	}
}

func TestEmptyFiles(t *testing.T) {
	for name, content := range map[string]string{
		"empty.yaml": "", "comments.yaml": "# nothing\n\n", "null.yaml": "~\n", "doc.yaml": "---\n",
		"null.json": "null", "empty.json": "{}", "blank": "  \n",
	} {
		fs, o := newFS(t)
		if err := Apply(fs, write(t, name, content)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if o.r != 16 || o.targets != "all-linear" {
			t.Errorf("%s changed flags: %+v", name, *o)
		}
	}
}

func TestYAMLExtras(t *testing.T) {
	// Anchors and aliases, YAML flow maps sniffed by content, special floats, quoted numbers for strings.
	fs, o := newFS(t)
	if err := Apply(fs, write(t, "c.yaml", "targets: &t [a, b]\ntag: *t\nalpha: .inf\nmodel: \"007\"\n")); err != nil {
		t.Fatal(err)
	}
	if o.targets != "a,b" || !reflect.DeepEqual(o.tags, []string{"a", "b"}) || o.alpha < 1e308 || o.model != "007" {
		t.Errorf("got %+v", *o)
	}
	fs, o = newFS(t)
	if err := Apply(fs, write(t, "conf", "{r: 4, model: x}")); err != nil {
		t.Fatal(err)
	}
	if o.r != 4 || o.model != "x" {
		t.Errorf("flow map: got %+v", *o)
	}
	// A non-string scalar for a string flag keeps its text as written.
	fs, o = newFS(t)
	if err := Apply(fs, write(t, "c.yaml", "model: 1.10\ntargets: [1.50, 0x1]\n")); err != nil {
		t.Fatal(err)
	}
	if o.model != "1.10" || o.targets != "1.50,0x1" {
		t.Errorf("got model=%q targets=%q", o.model, o.targets)
	}
}

func TestLoad(t *testing.T) {
	// Without Register, Load is Parse.
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	n := fs.Int("n", 0, "")
	if err := Load(fs, []string{"-n", "3"}); err != nil || *n != 3 {
		t.Fatalf("n=%d err=%v", *n, err)
	}
	// Without --config, nothing is read.
	fs2, o := newFS(t)
	if err := Load(fs2, []string{"-r", "2"}); err != nil || o.r != 2 {
		t.Fatalf("r=%d err=%v", o.r, err)
	}
	// A config error is printed to the FlagSet's output and returned.
	fs3, _ := newFS(t)
	var out bytes.Buffer
	fs3.SetOutput(&out)
	cfg := write(t, "c.yaml", "r: x\n")
	err := Load(fs3, []string{"--config", cfg})
	if err == nil || !strings.Contains(out.String(), cfg+":1:") {
		t.Fatalf("err=%v output=%q", err, out.String())
	}
	// A parse error comes back from Parse untouched.
	fs4, _ := newFS(t)
	if err := Load(fs4, []string{"--nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err=%v", err)
	}
	// A missing file names its path.
	fs5, _ := newFS(t)
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	if err := Load(fs5, []string{"--config", missing}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err=%v", err)
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{
		{"kitten", "sitting", 3}, {"", "abc", 3}, {"abc", "", 3}, {"same", "same", 0},
		{"batchsize", "batch-size", 1}, {"flaw", "lawn", 2}, {"αβ", "αγ", 1},
		{"alhpa", "alpha", 1}, {"ca", "abc", 3}, {"ab", "ba", 1}, {"abcdef", "badcfe", 3},
	} {
		if d := distance(tc.a, tc.b); d != tc.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, d, tc.d)
		}
		if d := distance(tc.b, tc.a); d != tc.d {
			t.Errorf("distance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, d, tc.d)
		}
	}
}
