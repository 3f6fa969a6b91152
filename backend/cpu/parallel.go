package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// minParallelWork is the amount of work (in rough element operations) below which a loop runs on the
// calling goroutine: starting goroutines costs microseconds, which tiny loops cannot repay. It is a
// variable so tests can force the parallel path on small inputs.
var minParallelWork = 1 << 15

// chunksPerWorker splits work finer than one chunk per goroutine, so that uneven items (causal
// attention rows, padded sequences) balance across goroutines.
const chunksPerWorker = 4

// parallelFor calls body on disjoint ranges [lo, hi) that together cover [0, n), on up to
// runtime.GOMAXPROCS goroutines. cost is the approximate work of one item; when n·cost is below
// minParallelWork, body runs once on the calling goroutine. body must be safe to run concurrently
// on disjoint ranges.
func parallelFor(n, cost int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	cost = max(cost, 1)
	workers := runtime.GOMAXPROCS(0)
	work := n * cost
	if workers < 2 || n < 2 || work < minParallelWork {
		body(0, n)
		return
	}
	chunks := min(n, workers*chunksPerWorker, max(work/minParallelWork, 2))
	size := (n + chunks - 1) / chunks
	chunks = (n + size - 1) / size
	workers = min(workers, chunks)

	var next atomic.Int64
	var wg sync.WaitGroup
	run := func() {
		defer wg.Done()
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return
			}
			body(c*size, min((c+1)*size, n))
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go run()
	}
	run()
	wg.Wait()
}
