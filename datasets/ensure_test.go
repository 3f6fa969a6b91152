package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnsureChecksTheSeed: data eva prepared is accepted only with DefaultSeed, a task of one's own
// whatever its seed; other seeds, a broken metadata file and an unknown dataset are errors that name
// the file or the dataset.
func TestEnsureChecksTheSeed(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) {
		if err := os.WriteFile(filepath.Join(dir, "spam.meta.json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"name": "spam", "seed": 1, "sources": [{"package": "p"}]}`)
	if err := Ensure(dir, "spam", nil); err != nil {
		t.Errorf("data prepared with the default seed: %v", err)
	}
	write(`{"name": "spam", "seed": 0}`)
	if err := Ensure(dir, "spam", nil); err != nil {
		t.Errorf("a task of one's own (no sources): %v", err)
	}
	write(`{"name": "spam", "seed": 0, "sources": [{"package": "p"}]}`)
	err := Ensure(dir, "spam", nil)
	if err == nil || !strings.Contains(err.Error(), "seed 0") || !strings.Contains(err.Error(), "eva data prepare spam --out "+dir) {
		t.Errorf("data prepared with seed 0: %v, want an error naming the seed and the command", err)
	}
	write(`{"name": "spam", "seed": `)
	if err := Ensure(dir, "spam", nil); err == nil || !strings.Contains(err.Error(), "spam.meta.json") {
		t.Errorf("broken metadata: %v, want an error naming the file", err)
	}
	if err := Ensure(dir, "no-such-dataset", nil); err == nil || !strings.Contains(err.Error(), "no-such-dataset") {
		t.Errorf("unknown dataset: %v", err)
	}
}
