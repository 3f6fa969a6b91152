package eva

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkStep times one incremental step (not the first: the stacked matrix includes the k
// previous components) for a batch of 2048 rows, k = 16, in each SVD mode.
func BenchmarkStep(b *testing.B) {
	const n, k = 2048, 16
	for _, d := range []int{768, 4096} {
		rng := rand.New(rand.NewPCG(1, uint64(d)))
		rows := make([]float32, n*d)
		for i := range rows {
			rows[i] = float32(rng.NormFloat64() * (1 + float64(i%d%17)))
		}
		for _, mode := range []SVDMode{Randomized, Exact, Covariance} {
			b.Run(fmt.Sprintf("%s/d=%d", mode, d), func(b *testing.B) {
				est := newEstimator(mode, k, d, 42)
				if _, err := est.fit(testEnv(), rows, n); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if _, err := est.fit(testEnv(), rows, n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
