package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/eva-lora/eva/backend/cpu"
	"github.com/eva-lora/eva/calib"
	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/datasets"
	"github.com/eva-lora/eva/eva"
	"github.com/eva-lora/eva/hf/config"
	"github.com/eva-lora/eva/lora"
	"github.com/eva-lora/eva/lora/inits"
	"github.com/eva-lora/eva/model"
	"github.com/eva-lora/eva/models"
	"github.com/eva-lora/eva/models/llama"
	"github.com/eva-lora/eva/train"
)

// OverheadRow is one model size of the overhead suite.
type OverheadRow struct {
	Model       string `json:"model"`
	Params      int    `json:"params"`
	Trained     bool   `json:"trained"` // pretrained weights (else random: EVA converges differently)
	InitSeconds Float  `json:"eva_init_seconds"`
	Batches     int    `json:"calibration_batches"`
	StepSeconds Float  `json:"train_step_seconds"`
	Ratio       Float  `json:"init_over_step"`
}

// InitCost is the time one initialisation method takes on the suite's first model.
type InitCost struct {
	Method  string `json:"method"`
	Seconds Float  `json:"seconds"`
	// Steps is Seconds over the time of one training step of that model.
	Steps Float `json:"init_over_step"`
}

// OverheadResults is the overhead suite's table.
type OverheadResults struct {
	BatchSize int           `json:"batch_size"`
	MaxLen    int           `json:"max_len"`
	R         int           `json:"r"`
	Rows      []OverheadRow `json:"rows"`
	// StatBatches is how many batches the statistics of CorDA and LoRA-GA run on; Inits compares
	// every method's init time on the first model (the paper's Figure 5 ordering).
	StatBatches int        `json:"statistics_batches"`
	Inits       []InitCost `json:"inits"`
}

// overheadMethods are the initialisations timed against EVA: PEFT's defaults of each, plus PiSSA's
// fast randomized variant.
var overheadMethods = []string{"kaiming", "olora", "pissa", "pissa_niter_4", "milora", "corda", "lora-ga"}

// measureInits times every method of overheadMethods on a freshly opened copy of the model in dir
// (the offset methods change W0), each fed the first statBatches batches when it needs statistics.
func measureInits(be *cpu.Backend, dir string, batches []*data.Batch, r int, statBatches int, stepSeconds Float) ([]InitCost, error) {
	var out []InitCost
	for _, name := range overheadMethods {
		method, err := inits.Parse(name)
		if err != nil {
			return nil, err
		}
		ck, err := models.Open(dir, be)
		if err != nil {
			return nil, err
		}
		targets, err := lora.SelectTargets(ck.Model.Linears(), lora.AllLinear)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if _, err := train.Initialise(be, ck.Model, train.InitSpec{Method: method, Targets: targets, R: r, Alpha: float64(2 * r),
			Seed: 1, Calibration: batches[:min(statBatches, len(batches))]}); err != nil {
			return nil, fmt.Errorf("overhead: init %s: %w", name, err)
		}
		sec := Float(time.Since(start).Seconds())
		out = append(out, InitCost{Method: name, Seconds: sec, Steps: sec / stepSeconds})
	}
	return out, nil
}

// overheadSuite measures EVA's initialisation time against the time of one LoRA training step, by
// model size (the paper's Figure 5 question: is the data-driven init cheap?).
var overheadSuite = Suite{
	Name:        "overhead",
	Description: "EVA init time (calibration to convergence, r 16, ρ 2) over the time of one LoRA training step, by model size",
	Run: func(ctx context.Context, opts Options) (Results, error) {
		house := opts.Model
		if house == "" {
			var err error
			if house, err = HouseModel(); err != nil {
				return nil, err
			}
		}
		tok, err := models.LoadTokenizer(filepath.Join(house, "tokenizer.json"))
		if err != nil {
			return nil, err
		}
		dataDir := opts.DataDir
		res := &OverheadResults{BatchSize: 8, MaxLen: 128, R: 16}
		if opts.Quick {
			res.R = 4
		}
		text, err := overheadText(dataDir, tok)
		if err != nil {
			return nil, err
		}
		batches := data.Batches(text, res.BatchSize, res.MaxLen, tok.PadID())
		be := cpu.New()
		ck, err := models.Open(house, be)
		if err != nil {
			return nil, err
		}
		row, err := measureOverhead(be, ck.Model, batches, res.R, opts.Quick)
		if err != nil {
			return nil, err
		}
		row.Model, row.Trained = opts.Model, true
		if opts.Model == "" {
			row.Model = "house model (" + filepath.Base(house) + ")"
		}
		res.Rows = append(res.Rows, row)
		res.StatBatches = 16
		if res.Inits, err = measureInits(be, house, batches, res.R, res.StatBatches, row.StepSeconds); err != nil {
			return nil, err
		}
		res.Inits = append(res.Inits, InitCost{Method: "eva (ρ 2)", Seconds: row.InitSeconds, Steps: row.Ratio})
		sizes := [][3]int{{512, 1408, 6}, {768, 2048, 8}} // hidden, intermediate, layers
		if opts.Quick {
			sizes = nil
		}
		for _, sz := range sizes {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			cfg := &config.Config{ModelType: "llama", VocabSize: tok.VocabSize(), HiddenSize: sz[0], IntermediateSize: sz[1],
				NumLayers: sz[2], NumHeads: sz[0] / 64, NumKVHeads: sz[0] / 64, HeadDim: 64, MaxPositions: 1024, NormEps: 1e-5,
				RopeTheta: 10000, TieWordEmbeddings: true, Activation: "silu"}
			m, err := llama.Load(cfg, &model.Loader{Backend: be, Init: model.NormalInit(1, 0.02), Origin: "random"})
			if err != nil {
				return nil, err
			}
			row, err := measureOverhead(be, m, batches, res.R, false)
			if err != nil {
				return nil, err
			}
			row.Model = fmt.Sprintf("random Llama, hidden %d, %d layers", sz[0], sz[2])
			res.Rows = append(res.Rows, row)
		}
		return res, nil
	},
}

// overheadText is calibration and training text: the generic validation split.
func overheadText(dataDir string, enc data.Encoder) ([]data.Example, error) {
	if dataDir == "" {
		dataDir = datasets.CacheDir()
	}
	if err := datasets.Ensure(dataDir, "generic", nil); err != nil {
		return nil, err
	}
	return data.ReadFile(filepath.Join(dataDir, "generic.valid.jsonl"), data.Options{Encoder: enc})
}

// measureOverhead times EVA's calibration on m and the mean of a few LoRA training steps.
func measureOverhead(be *cpu.Backend, m model.Model, batches []*data.Batch, r int, quick bool) (OverheadRow, error) {
	row := OverheadRow{}
	for _, p := range m.Params() {
		row.Params += p.Value.Len()
	}
	targets, err := lora.SelectTargets(m.Linears(), lora.AllLinear)
	if err != nil {
		return row, err
	}
	cfg := eva.DefaultConfig()
	cfg.R, cfg.Alpha, cfg.Rho = r, float64(2*r), 2
	start := time.Now()
	st, err := calib.Run(be, m, batches, targets, cfg, calib.Options{UseLabelMask: true})
	if err != nil {
		return row, err
	}
	row.InitSeconds, row.Batches = Float(time.Since(start).Seconds()), st.Batches
	method, _ := inits.Parse("eva")
	ads, err := train.Initialise(be, m, train.InitSpec{Method: method, Targets: targets, R: r, Alpha: float64(2 * r), EVAState: st, UseLabelMask: true})
	if err != nil {
		return row, err
	}
	steps := 4
	if quick {
		steps = 2
	}
	tcfg := train.DefaultConfig()
	tcfg.Steps = steps + 1
	loader, err := data.NewLoader(dataExamples(batches), data.LoaderConfig{BatchSize: batches[0].B, Pad: 0, Seed: 1})
	if err != nil {
		return row, err
	}
	tr := &train.Trainer{Backend: be, Model: m, Adapters: ads.List, Train: loader, Config: tcfg}
	stepSeconds, err := tr.TimeSteps(steps)
	if err != nil {
		return row, err
	}
	for _, a := range ads.List {
		a.Layer().Adapter = nil
	}
	row.StepSeconds = Float(stepSeconds)
	row.Ratio = row.InitSeconds / row.StepSeconds
	return row, nil
}

// dataExamples turns batches back into examples (for a loader).
func dataExamples(batches []*data.Batch) []data.Example {
	var out []data.Example
	for _, b := range batches {
		for i := range b.B {
			n := int(b.Lengths[i])
			out = append(out, data.Example{IDs: b.IDs[i*b.S : i*b.S+n]})
		}
	}
	return out
}

// Markdown renders the overhead table.
func (r *OverheadResults) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# eva bench overhead\n\nEVA calibration (all-linear, r %d, ρ 2, τ 0.99, batches of %d × ≤ %d tokens of generic text) "+
		"against one LoRA training step of the same batch shape.\n\n| model | parameters | EVA init (s) | calibration batches | train step (s) | init / step |\n"+
		"| --- | --- | --- | --- | --- | --- |\n", r.R, r.BatchSize, r.MaxLen)
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %.1fM | %.2f | %d | %.3f | %.1f |\n", row.Model, float64(row.Params)/1e6, float64(row.InitSeconds),
			row.Batches, float64(row.StepSeconds), float64(row.Ratio))
	}
	b.WriteString("\nRandom-weight models have flatter activation spectra than trained ones, so their calibration takes a different number of batches; " +
		"their time per batch still shows how the cost grows with size.\n")
	if len(r.Inits) > 0 && len(r.Rows) > 0 {
		fmt.Fprintf(&b, "\n## Every init method on %s\n\nr %d, all-linear, on the same machine in the same run; CorDA and LoRA-GA collect their statistics "+
			"on %d batches (covariance; gradients), EVA calibrates to convergence (%d batches above). Training steps: one step of the table above "+
			"(%.3f s).\n\n| method | init (s) | init / step |\n| --- | --- | --- |\n", r.Rows[0].Model, r.R, r.StatBatches, r.Rows[0].Batches, float64(r.Rows[0].StepSeconds))
		for _, c := range r.Inits {
			fmt.Fprintf(&b, "| %s | %.2f | %.1f |\n", c.Method, float64(c.Seconds), float64(c.Steps))
		}
	}
	return b.String()
}
