package datasets

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realSizes bound the lines of each file prepared from the real packages (measured with the
// versions scripts/setup.sh installs, with some slack).
var realSizes = map[string][2]int{
	"kjv.jsonl":               {4000, 6000},
	"brown.jsonl":             {4000, 7000},
	"sotu.jsonl":              {8000, 13000},
	"moby-dick.jsonl":         {1000, 2000},
	"wordnet-glosses.jsonl":   {10000, 18000},
	"fortunes.jsonl":          {2000, 4000},
	"generic.train.jsonl":     {30000, 50000},
	"generic.valid.jsonl":     {250, 600},
	"spam.train.jsonl":        {2400, 3200},
	"spam.valid.jsonl":        {300, 420},
	"spam.test.jsonl":         {300, 420},
	"sotu-party.train.jsonl":  {14000, 22000},
	"sotu-party.valid.jsonl":  {1200, 3000},
	"sotu-party.test.jsonl":   {1200, 3000},
	"brown-genre.train.jsonl": {1200, 2500},
	"brown-genre.valid.jsonl": {250, 600},
	"brown-genre.test.jsonl":  {250, 600},
	"quiz.train.jsonl":        {2500, 4000},
	"quiz.valid.jsonl":        {250, 600},
	"quiz.test.jsonl":         {250, 600},
	"arithmetic.train.jsonl":  {20000, 20000},
	"arithmetic.valid.jsonl":  {1000, 1000},
	"arithmetic.test.jsonl":   {1000, 1000},
}

// realContains are lines some file must hold: a check that the converters read the real formats.
var realContains = map[string]string{
	"kjv.jsonl":               `"text":"In the beginning God created the heaven and the earth. And the earth was without form`,
	"moby-dick.jsonl":         `"text":"CHAPTER 1. Loomings. Call me Ishmael.`,
	"wordnet-glosses.jsonl":   `entity, noun: that which is perceived or known or inferred to have its own distinct existence (living or nonliving).`,
	"quiz.train.jsonl":        `"completion":" `,
	"brown.jsonl":             `"text":"`,
	"sotu-party.test.jsonl":   `"completion":" Republican"`,
	"brown-genre.train.jsonl": `"completion":" science fiction"`,
}

// TestRealSources prepares every dataset from the installed packages and checks sizes, line
// shapes, label sets and known content. Datasets whose sources are not installed
// (scripts/setup.sh --data installs them) are skipped.
func TestRealSources(t *testing.T) {
	if testing.Short() {
		t.Skip("converts ~40 MB of text")
	}
	out := t.TempDir()
	var missing []string
	for _, name := range Names() {
		d, _ := Get(name)
		if errs := d.Missing(Options{}); len(errs) > 0 {
			missing = append(missing, name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prepareReal(t, d, out)
		})
	}
	if len(missing) > 0 {
		t.Logf("sources not installed for %s (scripts/setup.sh --data): skipped", strings.Join(missing, ", "))
	}
}

// prepareReal prepares one dataset from the real sources into out and checks its files.
func prepareReal(t *testing.T, d Dataset, out string) {
	files, err := d.Prepare(out, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		base := filepath.Base(f.Path)
		if strings.HasSuffix(base, ".meta.json") {
			continue
		}
		bounds, ok := realSizes[base]
		if !ok {
			t.Errorf("%s: no expected size", base)
		} else if f.Lines < bounds[0] || f.Lines > bounds[1] {
			t.Errorf("%s: %d lines, expected %d to %d", base, f.Lines, bounds[0], bounds[1])
		}
		checkRealFile(t, f, d.Kind)
	}
	if d.Kind == Task {
		checkRealLabels(t, out, d.Name)
	}
}

// checkRealFile checks the shape of every line and looks for the file's known content.
func checkRealFile(t *testing.T, f File, kind Kind) {
	t.Helper()
	base := filepath.Base(f.Path)
	found := realContains[base] == ""
	data, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var l struct{ Text, Prompt, Completion string }
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("%s:%d: %v", base, i+1, err)
		}
		if kind == Corpus {
			text := l.Text
			if text == "" || runes(text) > chunkMax {
				t.Errorf("%s:%d: text of %d characters", base, i+1, runes(text))
			}
			if !found && strings.Contains(`"text":"`+text, realContains[base]) {
				found = true
			}
			continue
		}
		p, c := l.Prompt, l.Completion
		if p == "" || c == "" || runes(p) > 800 {
			t.Errorf("%s:%d: prompt of %d characters, completion %q", base, i+1, runes(p), c)
		}
		if !found && strings.Contains(`"completion":"`+c+`"`, realContains[base]) {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: no line holds %q", base, realContains[base])
	}
}

// checkRealLabels checks a task's metadata: classification tasks are balanced in every split.
func checkRealLabels(t *testing.T, out, task string) {
	t.Helper()
	meta, err := ReadMeta(filepath.Join(out, task+".meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]int{"spam": 2, "sotu-party": 2, "brown-genre": 15}[task]
	if len(meta.Labels) != wantLabels {
		t.Errorf("%s: labels %q, want %d", task, meta.Labels, wantLabels)
	}
	for split, counts := range meta.LabelCounts {
		for l, n := range counts {
			if n != counts[meta.Labels[0]] || n == 0 {
				t.Errorf("%s %s: label %q has %d lines, %q has %d", task, split, l, n, meta.Labels[0], counts[meta.Labels[0]])
			}
		}
	}
}
