package tensor

// Backend owns tensor storage and runs every kernel eva's models need. All tensors passed to a
// backend's methods must belong to that backend.
//
// Shapes below use N for rows (tokens, B·S), D for features, V for vocabulary, B batch, S sequence,
// H query heads, KV key/value heads and Dh head size. Unless a method says otherwise:
//   - Forward kernels overwrite their outputs.
//   - Backward kernels ACCUMULATE (+=) into every gradient they write (input and parameter
//     gradients alike), so residual branches and gradient accumulation need no extra adds; callers
//     zero gradient buffers when a fresh gradient is wanted. A nil parameter gradient is skipped.
//   - Host-side integer arguments (token ids, targets, lengths) are plain slices; a device backend
//     uploads them itself.
//
// Backends validate shapes and panic on a mismatch: that is a programming error, never user input.
// Model code validates user input (token ids in range and the like) before it reaches a kernel.
type Backend interface {
	// Name identifies the backend ("cpu", "cuda").
	Name() string

	// Zeros allocates a zero-filled tensor.
	Zeros(shape ...int) *Tensor
	// FromHost allocates a tensor holding a copy of data, which must have Numel(shape) elements.
	FromHost(data []float32, shape ...int) *Tensor
	// ToHost returns a copy of t's elements in row-major order.
	ToHost(t *Tensor) []float32
	// Copy copies src into dst; both have the same number of elements.
	Copy(dst, src *Tensor)
	// Fill sets every element of t to v.
	Fill(t *Tensor, v float32)

	// Gemm computes c = alpha·op(a)·op(b) + beta·c for rank-2 a, b, c, where op transposes when asked.
	// With beta = 0 the previous contents of c are ignored (NaN included).
	Gemm(transA, transB bool, alpha float32, a, b *Tensor, beta float32, c *Tensor)

	// Axpy computes y += alpha·x elementwise.
	Axpy(alpha float32, x, y *Tensor)
	// Add computes out = a + b elementwise; out may alias a or b.
	Add(out, a, b *Tensor)
	// Scale multiplies every element of t by alpha.
	Scale(t *Tensor, alpha float32)
	// AddRowVector adds v [D] to every row of x [N, D].
	AddRowVector(x, v *Tensor)
	// SumRows accumulates the column sums of x [N, D] into dst [D]: dst += Σᵢ x[i, :].
	SumRows(dst, x *Tensor)
	// SliceCols copies columns [col0, col0+W) of src [N, C] into dst [N, W].
	SliceCols(dst, src *Tensor, col0 int)
	// AccumulateCols adds src [N, W] into columns [col0, col0+W) of dst [N, C].
	AccumulateCols(dst, src *Tensor, col0 int)

	// RMSNormForward: rstd[i] = 1/sqrt(mean(x[i,:]²) + eps), out = x·rstd·w, with x, out [N, D], w [D], rstd [N].
	RMSNormForward(out, rstd, x, w *Tensor, eps float32)
	// RMSNormBackward accumulates dx (and dw unless nil) from dout, given the forward's x, w and rstd.
	RMSNormBackward(dx, dw, dout, x, w, rstd *Tensor)
	// LayerNormForward: out = (x - mean)·rstd·w + b (b may be nil), saving mean [N] and rstd [N].
	LayerNormForward(out, mean, rstd, x, w, b *Tensor, eps float32)
	// LayerNormBackward accumulates dx, dw and db (each skipped when nil).
	LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd *Tensor)

	// SwiGLUForward: out = silu(gate)·up, all [N, F].
	SwiGLUForward(out, gate, up *Tensor)
	// SwiGLUBackward accumulates dgate and dup.
	SwiGLUBackward(dgate, dup, dout, gate, up *Tensor)
	// GELUForward: out = gelu(x), with the tanh approximation (GPT-2's gelu_new) when tanh is true and
	// the exact erf form otherwise.
	GELUForward(out, x *Tensor, tanh bool)
	// GELUBackward accumulates dx.
	GELUBackward(dx, dout, x *Tensor, tanh bool)

	// RoPE rotates x [B, S, H, Dh] in place by position: for position s and j < Dh/2 the pair
	// (x[j], x[j+Dh/2]) becomes (x[j]·c − x[j+Dh/2]·s, x[j+Dh/2]·c + x[j]·s) with c = cos[s, j] and
	// s = sin[s, j] from tables [S, Dh/2] (the rotate-half convention of Hugging Face Llama).
	// inverse rotates by the negative angle, which is the backward pass of the forward rotation.
	RoPE(x, cos, sin *Tensor, inverse bool)

	// EmbeddingForward gathers out[i, :] = table[ids[i], :] with out [N, D], table [V, D].
	EmbeddingForward(out, table *Tensor, ids []int32)
	// EmbeddingBackward scatter-adds dtable[ids[i], :] += dout[i, :].
	EmbeddingBackward(dtable, dout *Tensor, ids []int32)

	// AttentionForward computes causal multi-head attention with grouped key/value heads.
	// q, out [B, S, H, Dh]; k, v [B, S, KV, Dh] with H a multiple of KV (query head h reads key/value
	// head h/(H/KV)); probs [B, H, S, S] receives the softmax weights (zero where masked).
	// Query i of row b sees key j iff j ≤ i, j < lengths[b] (right padding; nil lengths means S)
	// and, when window > 0, i − j < window (sliding-window attention). Scores are scale·q·k.
	AttentionForward(out, probs, q, k, v *Tensor, lengths []int32, window int, scale float32)
	// AttentionBackward accumulates dq, dk and dv given the forward's inputs and probs.
	AttentionBackward(dq, dk, dv, dout, q, k, v, probs *Tensor, lengths []int32, window int, scale float32)

	// CrossEntropyForward writes losses[i] = logsumexp(logits[i, :]) − logits[i, targets[i]] for
	// logits [N, V], losses [N]; rows whose target is negative get 0.
	CrossEntropyForward(losses, logits *Tensor, targets []int32)
	// CrossEntropyLossGrad is the training form: it writes losses as CrossEntropyForward does and
	// OVERWRITES grad with scale·(softmax − onehot) (zero rows where the target is negative),
	// computing each exponential once. grad may be logits itself, which saves a [N, V] buffer.
	CrossEntropyLossGrad(losses, grad, logits *Tensor, targets []int32, scale float32)

	// Adapter kernels (DoRA, dropout).

	// MulRowVector writes out[i, :] = x[i, :]·v for x, out [N, D] and v [D]; out may alias x.
	MulRowVector(out, x, v *Tensor)
	// ScaleRows writes out[i, :] = x[i, :]·v[i] for x, out [N, D] and v [N]; out may alias x.
	ScaleRows(out, x, v *Tensor)
	// RowDots writes dst[i] = Σⱼ a[i, j]·b[i, j] for a, b [N, D] and dst [N] (float64 accumulation).
	RowDots(dst, a, b *Tensor)
	// ColDots accumulates dst[j] += Σᵢ a[i, j]·b[i, j] for a, b [N, D] and dst [D].
	ColDots(dst, a, b *Tensor)
	// Dropout writes out = x·keep/(1−p), where keep[i] is 1 with probability 1−p, drawn from a
	// counter-based hash of (seed, i): the same seed gives the same mask, so a backward pass can apply
	// the forward's mask again. out may alias x; p is in [0, 1).
	Dropout(out, x *Tensor, p float32, seed uint64)

	// Optimizer kernels.

	// AdamW applies step t ≥ 1 of torch.optim.AdamW to p in place, updating the moment buffers m and
	// v (p, g, m, v of equal element counts): decoupled weight decay p·(1 − lr·wd) first, then
	// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and p ← p − lr·m̂/(√v̂ + eps) with the bias
	// corrections m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ). Backends mirror PyTorch's float32 order of
	// operations, so results agree with it to rounding. The scalars are float64, as PyTorch's Python
	// floats are; g is read only.
	AdamW(p, g, m, v *Tensor, lr, beta1, beta2, eps, weightDecay float64, step int)
	// SumSquares returns Σ x² accumulated in float64 (gradient norms for clipping); the result does
	// not depend on how the backend splits the work.
	SumSquares(x *Tensor) float64
}
