// Package train fine-tunes adapters: the optimizer, learning-rate schedules, metrics and plots that
// the training loop drives.
//
// The pieces mirror the Hugging Face stack so runs compare with PEFT + Trainer:
//   - AdamW is torch.optim.AdamW (decoupled weight decay; the update runs on the backend as one
//     kernel, tensor.Backend.AdamW) over ParamGroups, with global-norm clipping as
//     torch.nn.utils.clip_grad_norm_. GroupParams builds Trainer's decay/no-decay groups or PEFT's
//     LoRA+ groups (B at ratio × the learning rate). A non-finite gradient norm is reported before
//     any update (ErrNonFiniteGrad). State/LoadState move the moments and the step count to and from
//     the host for checkpoints, bit for bit.
//   - Schedule is transformers' constant, constant_with_warmup, linear and cosine schedules. Steps
//     count completed optimizer updates: update k (from 0) uses Schedule.LR(k, base), as torch's
//     LambdaLR does when scheduler.step() follows optimizer.step().
//   - MetricsWriter writes one JSON object per event (JSONL) and can resume a file, dropping the
//     events logged after the checkpoint; ReadMetrics reads it back.
//   - RenderLossPlot and WriteLossPlot draw loss against step for one or several runs as SVG.
package train
