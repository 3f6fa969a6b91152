package cpu

import (
	"runtime"
	"sync"

	"github.com/eva-lora/eva/internal/openblas"
)

// blasThreads controls OpenBLAS's process-wide thread count. OpenBLAS parallelises each large GEMM
// on its own threads; when several goroutines call it at once (attention's per-head products),
// those threads and the goroutines fight over the cores and throughput drops several-fold. Kernels
// that issue many small GEMMs from parallel goroutines therefore drop OpenBLAS to one thread for
// their duration (see forHeads).
type blasThreads struct {
	mu  sync.Mutex // serialises the save, set and restore of the global setting
	get func() int32
	set func(int32)
}

// bindBLASThreads binds openblas_get_num_threads and openblas_set_num_threads, or returns nil when
// the library lacks them (GEMM then stays as it is, only slower in attention).
func bindBLASThreads() *blasThreads {
	var t blasThreads
	if openblas.Bind(&t.get, "openblas_get_num_threads") != nil || openblas.Bind(&t.set, "openblas_set_num_threads") != nil {
		return nil
	}
	return &t
}

// forHeads runs body over [0, tasks) where each task issues GEMMs of its own. With enough tasks to
// occupy every core, the tasks run on parallel goroutines with OpenBLAS limited to one thread
// meanwhile (a process-wide setting: a large GEMM elsewhere in the process runs single-threaded
// until it is restored). With fewer tasks, they run in order and OpenBLAS parallelises each product.
// The pure-Go GEMM composes with goroutines, so it always takes the parallel path.
func (be *Backend) forHeads(tasks, cost int, body func(lo, hi int)) {
	if be.threads == nil {
		parallelFor(tasks, cost, body)
		return
	}
	if tasks < runtime.GOMAXPROCS(0) || tasks*cost < minParallelWork {
		body(0, tasks)
		return
	}
	t := be.threads
	t.mu.Lock()
	defer t.mu.Unlock()
	saved := t.get()
	t.set(1)
	defer t.set(saved)
	parallelFor(tasks, cost, body)
}
