package atomicdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteCreatesReplacesAndRollsBack(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	put := func(name, text string) func(string) error {
		return func(tmp string) error { return os.WriteFile(filepath.Join(tmp, name), []byte(text), 0o644) }
	}
	if err := Write(dir, put("a.txt", "one")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "one" {
		t.Fatalf("created %q", b)
	}
	if err := Write(dir, put("a.txt", "two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "two" {
		t.Fatalf("replaced %q", b)
	}
	boom := errors.New("boom")
	err := Write(filepath.Join(root, "never"), func(tmp string) error {
		put("half.txt", "x")(tmp)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 || entries[0].Name() != "out" {
		t.Fatalf("left behind: %v", entries)
	}
}
