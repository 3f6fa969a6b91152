package llama

import (
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/model"
)

// benchConfig is the ~20M-non-embedding-parameter Llama used to compare training throughput with
// PyTorch (scripts/bench_torch.py uses the same shape): hidden 512, intermediate 1408, 6 layers,
// 8 heads, vocabulary 32000, untied head.
func benchConfig() *config.Config {
	return &config.Config{
		ModelType: "llama", VocabSize: 32000, HiddenSize: 512, IntermediateSize: 1408, NumLayers: 6,
		NumHeads: 8, NumKVHeads: 8, HeadDim: 64, MaxPositions: 2048, NormEps: 1e-5, RopeTheta: 10000,
		Activation: "silu",
	}
}

// envInt reads a benchmark size override from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkForwardBackward measures full-gradient training-step throughput (forward, loss,
// backward) in tokens/s. EVA_BENCH_BATCH and EVA_BENCH_SEQ override the batch shape (default 8×256).
func BenchmarkForwardBackward(b *testing.B) {
	cfg := benchConfig()
	B, S := envInt("EVA_BENCH_BATCH", 8), envInt("EVA_BENCH_SEQ", 256)
	be := cpu.New()
	m, err := Load(cfg, &model.Loader{Backend: be, Init: model.NormalInit(1, 0.02), Origin: "random"})
	if err != nil {
		b.Fatal(err)
	}
	m.RequestGrads()
	rng := rand.New(rand.NewPCG(1, 1))
	batch := &data.Batch{B: B, S: S, IDs: make([]int32, B*S), Lengths: make([]int32, B)}
	for i := range batch.IDs {
		batch.IDs[i] = int32(rng.IntN(cfg.VocabSize))
	}
	for i := range batch.Lengths {
		batch.Lengths[i] = int32(S)
	}
	targets := batch.Targets()
	step := func() {
		ctx := model.Context(be, batch)
		logits, err := m.Forward(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		_, dlogits := model.LossGrad(be, logits, targets)
		m.Backward(ctx, dlogits)
	}
	step() // allocate activation buffers
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(B*S*b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(0, "ns/op")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB") // Maxrss is in KiB on Linux
	}
	b.Logf("blas: %s", be.BLAS())
}

// BenchmarkCompletionStep measures a training step (forward, loss, backward of a frozen model: the
// base-model part of a LoRA step) on prompt→completion data whose last 2 tokens of each sequence
// are labelled, with the head on every row ("all-rows") and on the labelled rows only
// ("labelled-rows", what training does). EVA_BENCH_BATCH and EVA_BENCH_SEQ set the shape (8×96).
func BenchmarkCompletionStep(b *testing.B) {
	cfg := benchConfig()
	B, S := envInt("EVA_BENCH_BATCH", 8), envInt("EVA_BENCH_SEQ", 96)
	be := cpu.New()
	m, err := Load(cfg, &model.Loader{Backend: be, Init: model.NormalInit(1, 0.02), Origin: "random"})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	batch := &data.Batch{B: B, S: S, IDs: make([]int32, B*S), Labels: make([]int32, B*S), Lengths: make([]int32, B)}
	for i := range batch.IDs {
		batch.IDs[i] = int32(rng.IntN(cfg.VocabSize))
		batch.Labels[i] = data.IgnoreIndex
		if i%S >= S-2 {
			batch.Labels[i] = batch.IDs[i]
		}
	}
	for i := range batch.Lengths {
		batch.Lengths[i] = int32(S)
	}
	for _, selected := range []bool{false, true} {
		name := map[bool]string{false: "all-rows", true: "labelled-rows"}[selected]
		b.Run(name, func(b *testing.B) {
			step := func() {
				ctx, targets := model.Context(be, batch), batch.Targets()
				if selected {
					targets = model.SelectLabelled(ctx, targets)
				}
				logits, err := m.Forward(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				_, dlogits := model.LossGrad(be, logits, targets)
				m.Backward(ctx, dlogits)
			}
			step()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
			b.ReportMetric(float64(B*S*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
