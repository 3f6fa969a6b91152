package openblas

import (
	"os"
	"testing"
)

// loaded skips the test when OpenBLAS is not installed.
func loaded(t *testing.T) {
	t.Helper()
	if _, err := Load(); err != nil {
		t.Skip(err)
	}
}

// TestIdleWorkersSleep checks that the library, once loaded, read ThreadTimeoutVar = 4 from the C
// environment that quietIdleWorkers set.
func TestIdleWorkersSleep(t *testing.T) {
	if _, set := os.LookupEnv(ThreadTimeoutVar); set {
		t.Skipf("%s is set by the user and kept", ThreadTimeoutVar)
	}
	loaded(t)
	var timeout func() int32
	if err := Bind(&timeout, "openblas_thread_timeout"); err != nil {
		t.Skip(err)
	}
	if got := timeout(); got != 4 {
		t.Errorf("OpenBLAS read %s = %d, want 4", ThreadTimeoutVar, got)
	}
}

func TestWithThreadsRestores(t *testing.T) {
	loaded(t)
	if !bindThreads() {
		t.Skip("no openblas_get_num_threads in this library")
	}
	SetThreads(2)
	WithThreads(1, func() {
		if got := getThreads(); got != 1 {
			t.Errorf("inside WithThreads(1): %d threads", got)
		}
	})
	if got := getThreads(); got != 2 {
		t.Errorf("after WithThreads: %d threads, want the previous 2", got)
	}
}
