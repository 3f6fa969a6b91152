package calib

import (
	"errors"
	"fmt"
	"io"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/internal/progress"
	"github.com/eva-lora/eva/linalg"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/nn"
	"github.com/eva-lora/eva/tensor"
)

// Statistics are the per-layer data statistics of the data-driven initialisations other than EVA
// (CorDA, LoRA-GA, LoRA-One, LoRA-DA), keyed by module name.
type Statistics struct {
	// Cov is the uncentred second moment of each layer's input, (1/T)·Σₜ xₜ·xₜᵀ [In, In], over the T
	// non-padding tokens (layers that share an input share the matrix).
	Cov map[string]*linalg.Dense
	// Grad is the gradient of the mean token loss with respect to each layer's weight [Out, In],
	// averaged over the batches.
	Grad map[string]*linalg.Dense
	// OutGradSq is, per output feature, the mean over non-padding tokens t of (∂L/∂yₜ)² [Out], where
	// L is the mean token loss of t's batch and yₜ the layer's output at t: the diagonal of K-FAC's
	// output-gradient factor. With one sequence per batch it is LoRA-DA's D_y.
	OutGradSq map[string][]float64
	// Tokens and Batches count what went in.
	Tokens, Batches int
}

// StatsOptions choose which statistics Collect gathers.
type StatsOptions struct {
	// Cov gathers input second moments (forward only); Grad weight gradients and OutGradSq output
	// gradient squares (both need a backward pass).
	Cov, Grad, OutGradSq bool
	// Progress receives a status line per batch (nil = silent).
	Progress io.Writer
}

// Collect runs the batches through m and gathers the requested statistics for the named layers.
// Weight gradients are requested only for those layers and released afterwards; the model is left
// as it was.
func Collect(be tensor.Backend, m model.Model, batches []*data.Batch, targets []string, opt StatsOptions) (*Statistics, error) {
	if len(batches) == 0 {
		return nil, errors.New("statistics: no data")
	}
	if !opt.Cov && !opt.Grad && !opt.OutGradSq {
		return nil, errors.New("statistics: nothing requested")
	}
	layers, byName, err := evaLayers(m, targets)
	if err != nil {
		return nil, err
	}
	st := &Statistics{Cov: map[string]*linalg.Dense{}, Grad: map[string]*linalg.Dense{}, OutGradSq: map[string][]float64{}}
	hook := &statsHook{st: st, opt: opt, shares: map[string]string{}, covTokens: map[string]int{}, gradRows: map[string]int{}}
	for _, l := range layers {
		if l.SharesInputWith != "" {
			hook.shares[l.Name] = l.SharesInputWith
		}
	}
	backward := opt.Grad || opt.OutGradSq
	// Logits are needed only where a label is, unless the output head (outside every block) is
	// itself observed: its statistics average over every non-padding row.
	gatherHead := true
	for _, l := range byName {
		gatherHead = gatherHead && l.Block >= 0
		l.Capture = hook
		if opt.Grad {
			l.GradW = be.Zeros(l.Out, l.In)
		}
	}
	defer func() {
		for _, l := range byName {
			l.Capture, l.GradW = nil, nil
		}
	}()
	bar := progress.New(opt.Progress, "statistics batch", len(batches))
	defer bar.Done()
	for i, b := range batches {
		ctx := model.Context(be, b)
		targets := b.Targets()
		if gatherHead {
			targets = model.SelectLabelled(ctx, targets)
		}
		logits, err := m.Forward(ctx, b)
		if err != nil {
			return nil, fmt.Errorf("statistics batch %d: %w", i, err)
		}
		if backward {
			tokens := model.CountTargets(targets)
			if tokens == 0 {
				return nil, fmt.Errorf("statistics batch %d: no token has a label", i)
			}
			_, dlogits := model.LossGrad(be, logits, targets)
			m.Backward(ctx, dlogits)
			st.Tokens += tokens
		}
		if opt.Grad {
			for _, l := range byName {
				g := be.ToHost(l.GradW)
				acc := st.Grad[l.Name]
				if acc == nil {
					acc = linalg.NewDense(l.Out, l.In)
					st.Grad[l.Name] = acc
				}
				for j, v := range g {
					acc.Data[j] += float64(v)
				}
				be.Fill(l.GradW, 0)
			}
		}
		st.Batches++
		bar.Update(i+1, "")
	}
	for _, acc := range st.Grad {
		for j := range acc.Data {
			acc.Data[j] /= float64(st.Batches)
		}
	}
	for name, acc := range st.Cov {
		n := float64(hook.covTokens[name])
		for j := range acc.Data {
			acc.Data[j] /= n
		}
	}
	for _, l := range layers {
		if head := l.SharesInputWith; head != "" && opt.Cov {
			st.Cov[l.Name] = st.Cov[head]
		}
	}
	for name, sq := range st.OutGradSq {
		for j := range sq {
			sq[j] /= float64(hook.gradRows[name])
		}
	}
	return st, nil
}

// statsHook accumulates input second moments (forward) and output gradient squares (backward).
type statsHook struct {
	st        *Statistics
	opt       StatsOptions
	shares    map[string]string // layer → the layer whose input it shares (computed once)
	covTokens map[string]int    // rows summed into each Cov
	gradRows  map[string]int    // rows summed into each OutGradSq
}

// Observe implements nn.Capture: it adds the non-padding rows' x·xᵀ to the layer's sum.
func (h *statsHook) Observe(ctx *nn.Context, name string, x *tensor.Tensor) {
	if !h.opt.Cov || h.shares[name] != "" {
		return
	}
	be, d := ctx.Backend, x.Dim(1)
	host := be.ToHost(x)
	rows := make([]float32, 0, len(host))
	n := 0
	for i := 0; i < x.Dim(0); i++ {
		if ctx.Rows == nil || ctx.Rows[i] {
			rows = append(rows, host[i*d:(i+1)*d]...)
			n++
		}
	}
	if n == 0 {
		return
	}
	xtx := be.Zeros(d, d)
	be.Gemm(true, false, 1, be.FromHost(rows, n, d), be.FromHost(rows, n, d), 0, xtx)
	acc := h.st.Cov[name]
	if acc == nil {
		acc = linalg.NewDense(d, d)
		h.st.Cov[name] = acc
	}
	for j, v := range be.ToHost(xtx) {
		acc.Data[j] += float64(v)
	}
	h.covTokens[name] += n
}

// ObserveGrad implements nn.GradCapture: it adds the squares of the non-padding rows of dy, the
// gradient of the batch's mean loss.
func (h *statsHook) ObserveGrad(ctx *nn.Context, name string, dy *tensor.Tensor) {
	if !h.opt.OutGradSq {
		return
	}
	d := dy.Dim(1)
	host := ctx.Backend.ToHost(dy)
	acc := h.st.OutGradSq[name]
	if acc == nil {
		acc = make([]float64, d)
		h.st.OutGradSq[name] = acc
	}
	for i := 0; i < dy.Dim(0); i++ {
		if ctx.Rows != nil && !ctx.Rows[i] {
			continue
		}
		h.gradRows[name]++
		for j, v := range host[i*d : (i+1)*d] {
			acc[j] += float64(v) * float64(v)
		}
	}
}
