// Package openblas loads the OpenBLAS shared library at run time, without cgo, and hands out its
// symbols. The CPU backend binds its BLAS calls and linalg its LAPACK calls (the Fortran interface,
// column-major) through it. When no library is found, Load reports an error and callers fall back to
// pure Go, warning once.
package openblas

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ebitengine/purego"
)

// EnvPath names an environment variable that, when set, is the first path tried for the library.
const EnvPath = "EVA_OPENBLAS"

var (
	once    sync.Once
	handle  uintptr
	libPath string
	loadErr error
)

// candidates lists the places the library is looked for, in order.
func candidates() []string {
	var c []string
	if p := os.Getenv(EnvPath); p != "" {
		c = append(c, p)
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		c = append(c, filepath.Join(dir, "libopenblas.so.0"), filepath.Join(dir, "lib", "libopenblas.so.0"))
	}
	return append(c,
		"libopenblas.so.0",
		"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
		"/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
		"libopenblas.so",
	)
}

// Load opens the library once and returns its handle, or an error that lists where it looked.
func Load() (uintptr, error) {
	once.Do(func() {
		if os.Getenv(EnvPath) == "none" {
			loadErr = errors.New("OpenBLAS disabled by " + EnvPath + "=none")
			return
		}
		var tried []string
		for _, p := range candidates() {
			h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_GLOBAL)
			if err == nil {
				handle, libPath = h, p
				return
			}
			tried = append(tried, p)
		}
		loadErr = fmt.Errorf("OpenBLAS not found (tried %s); install Debian's libopenblas0-pthread or set %s",
			strings.Join(tried, ", "), EnvPath)
	})
	return handle, loadErr
}

// Path is the path the library was loaded from ("" when it was not loaded).
func Path() string {
	_, _ = Load()
	return libPath
}

// Bind loads the library and registers fn (a pointer to a func variable) as the symbol name.
func Bind(fn any, name string) error {
	h, err := Load()
	if err != nil {
		return err
	}
	sym, err := purego.Dlsym(h, name)
	if err != nil {
		return fmt.Errorf("OpenBLAS at %s lacks %s: %w", libPath, name, err)
	}
	purego.RegisterFunc(fn, sym)
	return nil
}

var warnOnce sync.Once

// WarnFallback prints, once per process, that a pure-Go fallback is used instead of OpenBLAS.
func WarnFallback(what string, err error) {
	warnOnce.Do(func() {
		fmt.Fprintf(os.Stderr, "eva: warning: %s runs in pure Go (slow): %v\n", what, err)
	})
}

var (
	threadsOnce  sync.Once
	threadsMu    sync.Mutex
	getThreads   func() int32
	setThreads   func(int32)
	threadsBound bool
)

// bindThreads binds OpenBLAS's thread-count functions once; it reports whether they exist.
func bindThreads() bool {
	threadsOnce.Do(func() {
		threadsBound = Bind(&getThreads, "openblas_get_num_threads") == nil &&
			Bind(&setThreads, "openblas_set_num_threads") == nil
	})
	return threadsBound
}

// SetThreads sets OpenBLAS's process-wide thread count (a no-op when the library is absent).
// eva's CPU backend runs OpenBLAS on one thread and splits large products across goroutines itself,
// so that no OpenBLAS worker thread spins on a core that a Go kernel needs.
func SetThreads(n int) {
	if !bindThreads() {
		return
	}
	threadsMu.Lock()
	defer threadsMu.Unlock()
	setThreads(int32(n))
}

// WithThreads runs f with OpenBLAS on n threads and restores the previous count afterwards. It is for
// LAPACK calls (SVD, eigendecomposition) that parallelise internally and that no goroutine splits.
// Calls are serialised.
func WithThreads(n int, f func()) {
	if !bindThreads() {
		f()
		return
	}
	threadsMu.Lock()
	defer threadsMu.Unlock()
	saved := getThreads()
	setThreads(int32(n))
	defer setThreads(saved)
	f()
}
