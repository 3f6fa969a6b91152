// Package openblas loads the OpenBLAS shared library at run time, without cgo, and hands out its
// symbols. The CPU backend binds its BLAS calls and linalg its LAPACK calls (the Fortran interface,
// column-major) through it. When no library is found, Load reports an error and callers fall back to
// pure Go, warning once.
//
// Before loading the library, Load sets OPENBLAS_THREAD_TIMEOUT=4 in the C environment unless the
// user set it (see quietIdleWorkers): OpenBLAS's worker threads then sleep as soon as a call ends
// instead of spinning on cores that Go code needs between BLAS calls.
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
		quietIdleWorkers()
		chooseCoreType()
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

// ThreadTimeoutVar is OpenBLAS's environment variable for how long an idle worker thread spins
// before it sleeps: 2ⁿ CPU cycles for n in [4, 30], read once when the library loads. OpenBLAS's
// default, n = 28, is about 0.1 s.
const ThreadTimeoutVar = "OPENBLAS_THREAD_TIMEOUT"

// quietIdleWorkers sets ThreadTimeoutVar to 4 (sleep after 16 cycles) in the C environment, unless
// the user set it. After every multi-threaded call, OpenBLAS's workers otherwise spin for about
// 0.1 s, which in a training step means always, on the cores that the Go kernels between products
// need. Measured on 2 cores with the Llama training step of models/llama BenchmarkForwardBackward
// (steps alternated in one process, medians of 8–12): OpenBLAS's own threads against the previous
// design, single-threaded OpenBLAS on goroutine panels, gave 690 against 659 and 623 against 601
// tokens/s with this setting, but 647 against 650 with OpenBLAS's default. OpenBLAS reads the
// variable with getenv when it loads, which os.Setenv does not reach in a binary built without
// cgo, so libc's setenv is called through purego. Without libc nothing changes.
func quietIdleWorkers() {
	if _, set := os.LookupEnv(ThreadTimeoutVar); !set {
		setCEnv(ThreadTimeoutVar, "4")
	}
}

// setCEnv sets a variable in the C library's environment, which a library loaded later reads with
// getenv (os.Setenv does not reach it in a binary built without cgo). Without libc it does nothing.
func setCEnv(name, value string) {
	for _, lib := range []string{"libc.so.6", "libc.so"} {
		libc, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			continue
		}
		sym, err := purego.Dlsym(libc, "setenv")
		if err != nil {
			return
		}
		var setenv func(name, value string, overwrite int32) int32
		purego.RegisterFunc(&setenv, sym)
		setenv(name, value, 0)
		return
	}
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
// eva's CPU backend sets it to runtime.GOMAXPROCS when it binds cblas_sgemm.
func SetThreads(n int) {
	if !bindThreads() {
		return
	}
	threadsMu.Lock()
	defer threadsMu.Unlock()
	setThreads(int32(n))
}

// WithThreads runs f with OpenBLAS on n threads and restores the previous count afterwards: n = 1
// for kernels that call BLAS from parallel goroutines (the CPU backend's attention), n = all cores
// for LAPACK calls (SVD, eigendecomposition) that parallelise internally. Calls are serialised.
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
