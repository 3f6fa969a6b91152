package train

import (
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/models/llama"
)

// randomBatches yields random full-length batches forever.
type randomBatches struct {
	rng         *rand.Rand
	b, s, vocab int
	pos         int64
}

func (r *randomBatches) Next() (*data.Batch, error) {
	bt := &data.Batch{B: r.b, S: r.s, IDs: make([]int32, r.b*r.s), Lengths: make([]int32, r.b)}
	for i := range bt.IDs {
		bt.IDs[i] = int32(r.rng.IntN(r.vocab))
	}
	for i := range bt.Lengths {
		bt.Lengths[i] = int32(r.s)
	}
	r.pos++
	return bt, nil
}
func (r *randomBatches) Position() data.Position    { return data.Position{Batch: int(r.pos)} }
func (r *randomBatches) Seek(p data.Position) error { r.pos = int64(p.Batch); return nil }

// usage returns the user and system CPU seconds this process has used so far and its peak resident
// memory in MiB (zeros when they cannot be read).
func usage() (cpuSeconds, peakMiB float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, float64(ru.Maxrss) / 1024 // Maxrss is in KiB
}

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkLoRAStep measures LoRA training throughput — forward, loss, backward and the AdamW update
// of every adapter — on the ~20M-non-embedding Llama that scripts/bench_torch.py --lora 16 trains
// with PyTorch+PEFT (hidden 512, intermediate 1408, 6 layers, 8 heads, vocabulary 32000, batch 8 ×
// 256, r 16, alpha 32, all-linear). EVA_BENCH_BATCH, EVA_BENCH_SEQ and EVA_BENCH_R override the shape.
func BenchmarkLoRAStep(b *testing.B) {
	cfg := &config.Config{
		ModelType: "llama", VocabSize: 32000, HiddenSize: 512, IntermediateSize: 1408, NumLayers: 6,
		NumHeads: 8, NumKVHeads: 8, HeadDim: 64, MaxPositions: 2048, NormEps: 1e-5, RopeTheta: 10000,
		Activation: "silu",
	}
	B, S, r := benchEnv("EVA_BENCH_BATCH", 8), benchEnv("EVA_BENCH_SEQ", 256), benchEnv("EVA_BENCH_R", 16)
	be := cpu.New()
	m, err := llama.Load(cfg, &model.Loader{Backend: be, Init: model.NormalInit(1, 0.02), Origin: "random"})
	if err != nil {
		b.Fatal(err)
	}
	names, err := lora.SelectTargets(m.Linears(), lora.AllLinear)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	var ads []*lora.Adapter
	for _, l := range m.Linears() {
		if l.Block < 0 {
			continue
		}
		a := make([]float32, r*l.In)
		for i := range a {
			a[i] = float32(rng.NormFloat64()) * 0.02
		}
		ad, err := lora.New(l, be.FromHost(a, r, l.In), be.Zeros(l.Out, r), float64(2*r), false)
		if err != nil {
			b.Fatal(err)
		}
		l.Adapter = ad
		ads = append(ads, ad)
	}
	if len(ads) != len(names) {
		b.Fatalf("%d adapters for %d targets", len(ads), len(names))
	}
	c := DefaultConfig()
	c.Steps = 1 << 30
	t := &Trainer{Backend: be, Model: m, Adapters: ads, Config: c,
		Train: &randomBatches{rng: rand.New(rand.NewPCG(3, 3)), b: B, s: S, vocab: cfg.VocabSize}}
	if err := t.setup(); err != nil {
		b.Fatal(err)
	}
	step := func(i int) {
		if _, _, err := t.accumulate(i); err != nil {
			b.Fatal(err)
		}
		if _, err := t.opt.ClipAndStep(1e-4, c.MaxGradNorm); err != nil {
			b.Fatal(err)
		}
	}
	step(1) // allocate activation buffers
	cpu0, _ := usage()
	b.ResetTimer()
	steps := make([]float64, b.N)
	for i := 0; i < b.N; i++ {
		start := time.Now()
		step(i + 2)
		steps[i] = time.Since(start).Seconds()
	}
	// Share of GOMAXPROCS cores' time the steps kept busy: what is missing is serial work, waits at
	// the end of parallel regions and cores the host did not give us.
	cpu1, peak := usage()
	b.ReportMetric(100*(cpu1-cpu0)/(b.Elapsed().Seconds()*float64(runtime.GOMAXPROCS(0))), "cpu-busy-%")
	b.ReportMetric(float64(B*S*b.N)/b.Elapsed().Seconds(), "tokens/s")
	// The median step, as scripts/bench_torch.py reports PyTorch's: one slow step on a shared
	// machine moves the mean but not this.
	slices.Sort(steps)
	b.ReportMetric(float64(B*S)/steps[len(steps)/2], "median-tokens/s")
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.Logf("blas: %s", be.BLAS())
}

// BenchmarkInitialise times the data-driven inits that factorise every target layer (all-linear,
// r 16) on the house model (assets/house-llama, 6 layers, hidden 384), with 4 random calibration
// batches of 8 × 128 tokens for the statistics of CorDA and LoRA-GA.
func BenchmarkInitialise(b *testing.B) {
	for _, name := range []string{"pissa", "milora", "olora", "corda", "lora-ga"} {
		b.Run(name, func(b *testing.B) {
			method, err := inits.Parse(name)
			if err != nil {
				b.Fatal(err)
			}
			be := cpu.New()
			src := &randomBatches{rng: rand.New(rand.NewPCG(4, 4)), b: 8, s: 128, vocab: 8192}
			var batches []*data.Batch
			for range 4 {
				bt, _ := src.Next()
				batches = append(batches, bt)
			}
			for b.Loop() {
				b.StopTimer()
				ck, err := models.Open("../assets/house-llama", be)
				if err != nil {
					b.Fatal(err)
				}
				targets, err := lora.SelectTargets(ck.Model.Linears(), lora.AllLinear)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := Initialise(be, ck.Model, InitSpec{Method: method, Targets: targets, R: 16, Alpha: 32, Seed: 1,
					Calibration: batches}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
