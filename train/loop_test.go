package train

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/models"
)

// sliceBatches cycles through fixed batches; the position counts batches handed out.
type sliceBatches struct {
	batches []*data.Batch
	pos     int64
	onNext  func(pos int64)
}

func (s *sliceBatches) Next() (*data.Batch, error) {
	if s.onNext != nil {
		s.onNext(s.pos)
	}
	b := s.batches[s.pos%int64(len(s.batches))]
	s.pos++
	return b, nil
}
func (s *sliceBatches) Position() data.Position {
	return data.Position{Epoch: int(s.pos) / len(s.batches), Batch: int(s.pos) % len(s.batches)}
}

func (s *sliceBatches) Seek(p data.Position) error {
	s.pos = int64(p.Epoch*len(s.batches) + p.Batch)
	return nil
}

func fixtureBatches(seed uint64) []*data.Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []*data.Batch
	for range 4 {
		b := &data.Batch{B: 2, S: 12, IDs: make([]int32, 24), Lengths: []int32{12, 9}}
		for i := range b.IDs {
			b.IDs[i] = int32(3 + rng.IntN(60)) // a small repetitive vocabulary: learnable
		}
		out = append(out, b)
	}
	return out
}

// newTrainer opens the tiny Llama with dropout-enabled DoRA-free LoRA adapters on q_proj and
// v_proj (A random, B = 0) and returns a trainer writing to dir.
func newTrainer(t *testing.T, dir string, cfg Config) *Trainer {
	t.Helper()
	be := cpu.New()
	ck, err := models.Open("../testdata/models/llama", be)
	if err != nil {
		t.Fatal(err)
	}
	names, err := lora.SelectTargets(ck.Model.Linears(), "q_proj,v_proj")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var ads []*lora.Adapter
	for _, l := range ck.Model.Linears() {
		if !slices.Contains(names, l.Name) {
			continue
		}
		a := make([]float32, 4*l.In)
		for i := range a {
			a[i] = float32(rng.NormFloat64()) * 0.1
		}
		ad, err := lora.New(l, be.FromHost(a, 4, l.In), be.Zeros(l.Out, 4), 8, false)
		if err != nil {
			t.Fatal(err)
		}
		ad.Dropout = 0.1
		l.Adapter = ad
		ads = append(ads, ad)
	}
	return &Trainer{Backend: be, Model: ck.Model, Adapters: ads, Train: &sliceBatches{batches: fixtureBatches(1)},
		Eval: fixtureBatches(2)[:1], Config: cfg, Dir: dir, Fingerprint: "test"}
}

func testConfig() Config {
	c := DefaultConfig()
	c.Steps, c.GradAccum, c.LR, c.Warmup, c.Schedule = 12, 2, 1e-2, 2, "cosine"
	c.SaveEvery, c.EvalEvery, c.LoRAPlusRatio, c.Seed = 3, 4, 4, 5
	c.AdamW.WeightDecay = 0.01
	return c
}

func params(tr *Trainer) [][]float32 {
	var out [][]float32
	for _, p := range Params(tr.Adapters) {
		out = append(out, tr.Backend.ToHost(p.Value))
	}
	return out
}

// TestTrainingLowersLoss: twelve steps on repeated batches lower the held-out loss (the held-out
// batch comes from the same distribution) and the training loss, and write metrics, a plot and the
// last checkpoints.
func TestTrainingLowersLoss(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, dir, testConfig())
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	events, err := ReadMetrics(metricsPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	first := *events[0].Loss
	if !(res.FinalLoss < float64(first)-0.1) {
		t.Errorf("training loss %.4f → %.4f, want a clear decrease", first, res.FinalLoss)
	}
	steps, _ := checkpointSteps(dir)
	if !slices.Equal(steps, []int{9, 12}) {
		t.Errorf("checkpoints %v, want the last two (9, 12)", steps)
	}
	if _, err := os.Stat(filepath.Join(dir, "loss.svg")); err != nil {
		t.Error(err)
	}
	if _, err := newTrainer(t, dir, testConfig()).Run(context.Background()); err == nil {
		t.Error("a second Run into a directory with checkpoints was accepted")
	}
}

// TestResumeIsBitExact cancels a run during its 8th step (it finishes the step, then saves a
// checkpoint of it before stopping), resumes it, and checks that the final parameters equal an
// uninterrupted run's bit for bit.
func TestResumeIsBitExact(t *testing.T) {
	full := newTrainer(t, t.TempDir(), testConfig())
	if _, err := full.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := params(full)

	dir := t.TempDir()
	part := newTrainer(t, dir, testConfig())
	ctx, cancel := context.WithCancel(context.Background())
	part.Train.(*sliceBatches).onNext = func(pos int64) {
		if pos == 14 { // step 8's first micro-batch: step 7 finished
			cancel()
		}
	}
	if _, err := part.Run(ctx); err == nil {
		t.Fatal("the interrupted run did not stop")
	}
	if steps, _ := checkpointSteps(dir); !slices.Contains(steps, 8) {
		t.Errorf("checkpoints %v after cancelling during step 8: the interrupted run did not save it", steps)
	}
	resumed := newTrainer(t, dir, testConfig())
	if _, err := resumed.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := params(resumed)
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("parameter %s differs after resume", Params(resumed.Adapters)[i].Name)
		}
	}
	events, err := ReadMetrics(metricsPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for _, e := range events {
		if e.Loss != nil {
			seen[e.Step]++
		}
	}
	for s := 1; s <= 12; s++ {
		if seen[s] != 1 {
			t.Errorf("step %d logged %d times after resume", s, seen[s])
		}
	}
	other := newTrainer(t, dir, testConfig())
	other.Fingerprint = "another run"
	if _, err := other.Resume(context.Background()); err == nil {
		t.Error("resume with another fingerprint accepted")
	}
}

// poisonBatches hands out a batch whose ids are valid but whose adapters were poisoned from step
// `at` on: the trainer must stop with a message naming the step and the last good checkpoint.
type poisonBatches struct {
	sliceBatches
	at   int64
	hook func()
}

func (p *poisonBatches) Next() (*data.Batch, error) {
	if p.pos == p.at {
		p.hook()
	}
	return p.sliceBatches.Next()
}

// TestNonFiniteLossStops: NaN in the parameters (as a diverging run produces) stops training with an
// error naming the step and the last good checkpoint, which stays on disk and loads.
func TestNonFiniteLossStops(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, dir, testConfig())
	pb := &poisonBatches{sliceBatches: *tr.Train.(*sliceBatches), at: 10}
	pb.hook = func() {
		a := tr.Adapters[0]
		v := tr.Backend.ToHost(a.A)
		v[0] = float32(math.NaN())
		tr.Backend.Copy(a.A, tr.Backend.FromHost(v, a.A.Shape()...))
	}
	tr.Train = pb
	_, err := tr.Run(context.Background())
	if err == nil {
		t.Fatal("training went on with NaN parameters")
	}
	msg := err.Error()
	if !strings.Contains(msg, "step 6") || !strings.Contains(msg, "step-00000003") {
		t.Errorf("error %q should name step 6 and the last checkpoint (step 3)", msg)
	}
	if steps, _ := checkpointSteps(dir); !slices.Equal(steps, []int{3}) {
		t.Errorf("checkpoints %v after the failure, want [3]", steps)
	}
}
