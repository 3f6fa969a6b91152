package cpu

import (
	"math"
	"testing"
)

type attnCase struct {
	b, s, h, kv, dh int
	lengths         []int32
	window          int
}

func TestAttention(t *testing.T) {
	cases := []attnCase{
		{2, 9, 4, 2, 8, []int32{9, 5}, 0},
		{2, 9, 4, 2, 8, nil, 0},
		{2, 6, 2, 1, 4, []int32{0, 3}, 0}, // a row of length 0 gives zero output
		{1, 5, 3, 3, 6, []int32{1}, 0},
		{2, 9, 4, 2, 8, []int32{9, 5}, 3},  // sliding window: padding queries of row 1 see no key
		{1, 9, 2, 1, 4, nil, 1},            // each query sees only itself
		{2, 9, 2, 2, 4, []int32{7, 9}, 20}, // a window longer than S changes nothing
	}
	defer func(b int) { attnBlock = b }(attnBlock)
	for _, block := range []int{attnBlock, 4} { // 4 splits S = 9 into blocks of 4, 4 and 1 rows
		attnBlock = block
		for _, c := range cases {
			t.Run(name("block%d_B%d_S%d_H%d_KV%d_Dh%d_len%v_win%d", block, c.b, c.s, c.h, c.kv, c.dh, c.lengths, c.window), func(t *testing.T) {
				bothModes(t, func(t *testing.T) { testAttention(t, c) })
			})
		}
	}
}

func testAttention(t *testing.T, c attnCase) {
	rng := newRand(70)
	be := New()
	scale := 1 / math.Sqrt(float64(c.dh))
	qn, kn, pn := c.b*c.s*c.h*c.dh, c.b*c.s*c.kv*c.dh, c.b*c.h*c.s*c.s
	q, k, v := randSlice(rng, qn, 1.5), randSlice(rng, kn, 1.5), randSlice(rng, kn, 1)
	qt, kt, vt := be.FromHost(q, c.b, c.s, c.h, c.dh), be.FromHost(k, c.b, c.s, c.kv, c.dh), be.FromHost(v, c.b, c.s, c.kv, c.dh)

	out := be.FromHost(randSlice(rng, qn, 1), c.b, c.s, c.h, c.dh) // forward must overwrite
	probs := be.FromHost(randSlice(rng, pn, 1), c.b, c.h, c.s, c.s)
	be.AttentionForward(out, probs, qt, kt, vt, c.lengths, c.window, float32(scale))
	wantOut, wantProbs := refAttention(to64(q), to64(k), to64(v), c.b, c.s, c.h, c.kv, c.dh, c.lengths, c.window, scale)
	assertClose(t, "attention out", Data(out), wantOut, 1e-5)
	assertClose(t, "attention probs", Data(probs), wantProbs, 1e-6)
	for i, p := range Data(probs) {
		if wantProbs[i] == 0 && p != 0 {
			t.Fatalf("masked probability %d is %v, want exactly 0", i, p)
		}
	}

	r := randSlice(rng, qn, 1)
	dq0, dk0, dv0 := randSlice(rng, qn, 1), randSlice(rng, kn, 1), randSlice(rng, kn, 1)
	dq, dk, dv := be.FromHost(dq0, qt.Shape()...), be.FromHost(dk0, kt.Shape()...), be.FromHost(dv0, vt.Shape()...)
	for range 2 {
		be.AttentionBackward(dq, dk, dv, be.FromHost(r, qt.Shape()...), qt, kt, vt, probs, c.lengths, c.window, float32(scale))
	}
	q64, k64, v64 := to64(q), to64(k), to64(v)
	loss := func(qp, kp, vp []float64) float64 {
		o, _ := refAttention(qp, kp, vp, c.b, c.s, c.h, c.kv, c.dh, c.lengths, c.window, scale)
		return dot(r, o)
	}
	checkGrad(t, "attention dq", q, Data(dq), dq0, func(p []float64) float64 { return loss(p, k64, v64) }, 2e-5)
	checkGrad(t, "attention dk", k, Data(dk), dk0, func(p []float64) float64 { return loss(q64, p, v64) }, 2e-5)
	checkGrad(t, "attention dv", v, Data(dv), dv0, func(p []float64) float64 { return loss(q64, k64, p) }, 2e-5)
}

func TestAttentionShapeChecks(t *testing.T) {
	be := New()
	q, kv := be.Zeros(1, 4, 3, 2), be.Zeros(1, 4, 2, 2)
	mustPanic(t, "3 query heads over 2 key/value heads", func() {
		be.AttentionForward(be.Zeros(1, 4, 3, 2), be.Zeros(1, 3, 4, 4), q, kv, kv, nil, 0, 1)
	})
	q = be.Zeros(1, 4, 2, 2)
	mustPanic(t, "a length past S", func() {
		be.AttentionForward(be.Zeros(1, 4, 2, 2), be.Zeros(1, 2, 4, 4), q, kv, kv, []int32{5}, 0, 1)
	})
}
