package cpu

import "testing"

func TestEmbedding(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		rng := newRand(50)
		be := New()
		const v, d = 11, 13
		ids := []int32{3, 0, 10, 3, 7, 3, 1} // repeated ids must accumulate
		n := len(ids)
		table, r := randSlice(rng, v*d, 1), randSlice(rng, n*d, 1)
		out := be.Zeros(n, d)
		be.EmbeddingForward(out, be.FromHost(table, v, d), ids)
		assertClose(t, "Embedding forward", Data(out), refEmbedding(to64(table), ids, d), 0)

		dt0 := randSlice(rng, v*d, 1)
		dt := be.FromHost(dt0, v, d)
		for range 2 {
			be.EmbeddingBackward(dt, be.FromHost(r, n, d), ids)
		}
		checkGrad(t, "Embedding dtable", table, Data(dt), dt0, func(p []float64) float64 {
			return dot(r, refEmbedding(p, ids, d))
		}, 1e-5)
		mustPanic(t, "EmbeddingForward with an id past the table", func() {
			be.EmbeddingForward(out, be.FromHost(table, v, d), []int32{0, 1, 2, 3, 4, 5, v})
		})
	})
}
