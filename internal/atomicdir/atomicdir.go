// Package atomicdir writes a directory of output files all at once: the files are written into a
// temporary directory beside the target and moved into place only when every one of them is
// complete, so a failure (or a kill) never leaves a partly written output directory behind.
package atomicdir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write calls fill with a fresh temporary directory, syncs what it wrote and moves it to dir. When dir
// does not exist the whole directory is renamed into place (one atomic step); when it exists, each
// file is renamed over its old version (each atomic), and other files in dir are left alone.
func Write(dir string, fill func(tmp string) error) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := syncFile(filepath.Join(tmp, e.Name())); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
	}
	if st, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.Chmod(tmp, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
		return syncFile(parent)
	} else if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	} else if !st.IsDir() {
		return fmt.Errorf("write %s: exists and is not a directory", dir)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
	}
	return syncFile(dir)
}

// syncFile flushes a file or directory to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
