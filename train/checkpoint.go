package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eva-lora/eva/hf/safetensors"
	"github.com/eva-lora/eva/internal/atomicdir"
)

// Checkpoint files. A checkpoint is the directory <out>/checkpoints/step-NNNNNNNN, written atomically,
// so a directory of that name is always complete.
const (
	paramsFile    = "trainable.safetensors"
	optimizerFile = "optimizer.safetensors"
	stateFile     = "trainer_state.json"
)

func checkpointsDir(out string) string { return filepath.Join(out, "checkpoints") }

func metricsPath(out string) string { return filepath.Join(out, "metrics.jsonl") }

func checkpointName(step int) string { return fmt.Sprintf("step-%08d", step) }

// latestCheckpoint returns the highest step with a checkpoint in out and its directory, or -1.
func latestCheckpoint(out string) (int, string, error) {
	steps, err := checkpointSteps(out)
	if err != nil || len(steps) == 0 {
		return -1, "", err
	}
	last := steps[len(steps)-1]
	return last, filepath.Join(checkpointsDir(out), checkpointName(last)), nil
}

// checkpointSteps lists the steps of the complete checkpoints in out, ascending.
func checkpointSteps(out string) ([]int, error) {
	entries, err := os.ReadDir(checkpointsDir(out))
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var steps []int
	for _, e := range entries {
		if s, ok := strings.CutPrefix(e.Name(), "step-"); ok && e.IsDir() {
			if n, err := strconv.Atoi(s); err == nil {
				steps = append(steps, n)
			}
		}
	}
	slices.Sort(steps)
	return steps, nil
}

// removeStaleTemporaries deletes the temporary directories of checkpoints whose writing was killed
// (atomicdir names them ".<name>.tmp-*"); they are never read.
func removeStaleTemporaries(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".step-") && strings.Contains(e.Name(), ".tmp-") {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// saveCheckpoint writes the current parameters, optimizer state and run state, then removes
// checkpoints beyond KeepCheckpoints.
func (t *Trainer) saveCheckpoint() error {
	dir := filepath.Join(checkpointsDir(t.Dir), checkpointName(t.state.Step))
	err := atomicdir.Write(dir, func(tmp string) error {
		params := t.params()
		tensors := make([]safetensors.Tensor, 0, len(params))
		for _, p := range params {
			tensors = append(tensors, safetensors.F32(p.Name, p.Value.Shape(), t.Backend.ToHost(p.Value)))
		}
		if err := safetensors.Write(filepath.Join(tmp, paramsFile), tensors, nil); err != nil {
			return err
		}
		st := t.opt.State()
		names := make([]string, 0, len(st.Params))
		for n := range st.Params {
			names = append(names, n)
		}
		slices.Sort(names)
		moments := make([]safetensors.Tensor, 0, 2*len(names))
		for _, n := range names {
			ps := st.Params[n]
			moments = append(moments, safetensors.F32("exp_avg."+n, ps.Shape, ps.M), safetensors.F32("exp_avg_sq."+n, ps.Shape, ps.V))
		}
		meta := map[string]string{"step": strconv.Itoa(st.Step)}
		if err := safetensors.Write(filepath.Join(tmp, optimizerFile), moments, meta); err != nil {
			return err
		}
		b, err := json.MarshalIndent(t.state, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, stateFile), append(b, '\n'), 0o644); err != nil {
			return err
		}
		if t.Export != nil {
			return t.Export(tmp)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("train: save checkpoint %s: %w", dir, err)
	}
	steps, err := checkpointSteps(t.Dir)
	if err != nil {
		return err
	}
	for _, s := range steps[:max(len(steps)-t.Config.KeepCheckpoints, 0)] {
		if err := os.RemoveAll(filepath.Join(checkpointsDir(t.Dir), checkpointName(s))); err != nil {
			return fmt.Errorf("train: remove old checkpoint: %w", err)
		}
	}
	return nil
}

// loadCheckpoint restores parameters and optimizer state from dir and returns the run state. Nothing
// is changed when any part does not fit this run.
func (t *Trainer) loadCheckpoint(dir string) (runState, error) {
	fail := func(err error) (runState, error) {
		return runState{}, fmt.Errorf("train: resume from %s: %w", dir, err)
	}
	var st runState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return fail(fmt.Errorf("%s: %w", stateFile, err))
	}
	if st.Fingerprint != t.Fingerprint {
		return fail(fmt.Errorf("the checkpoint belongs to a different run (model, data or settings changed): %s vs %s", st.Fingerprint, t.Fingerprint))
	}
	if st.Step < 1 || st.Step > t.Config.Steps {
		return fail(fmt.Errorf("checkpoint step %d is outside 1..%d", st.Step, t.Config.Steps))
	}
	pf, err := safetensors.Open(filepath.Join(dir, paramsFile))
	if err != nil {
		return fail(err)
	}
	defer pf.Close()
	params := t.params()
	values := make([][]float32, len(params))
	for i, p := range params {
		info, ok := pf.Info(p.Name)
		if !ok || !slices.Equal(info.Shape, p.Value.Shape()) {
			return fail(fmt.Errorf("%s: parameter %s missing or of another shape (want %v)", paramsFile, p.Name, p.Value.Shape()))
		}
		if values[i], err = pf.Float32(p.Name); err != nil {
			return fail(err)
		}
	}
	of, err := safetensors.Open(filepath.Join(dir, optimizerFile))
	if err != nil {
		return fail(err)
	}
	defer of.Close()
	ost := &OptimizerState{Params: map[string]ParamState{}}
	if ost.Step, err = strconv.Atoi(of.Metadata()["step"]); err != nil {
		return fail(fmt.Errorf("%s: no optimizer step in the metadata", optimizerFile))
	}
	for _, p := range params {
		m, err1 := of.Float32("exp_avg." + p.Name)
		v, err2 := of.Float32("exp_avg_sq." + p.Name)
		if err1 != nil || err2 != nil {
			return fail(fmt.Errorf("%s: no moments for %s", optimizerFile, p.Name))
		}
		ost.Params[p.Name] = ParamState{Shape: slices.Clone(p.Value.Shape()), M: m, V: v}
	}
	if err := t.opt.LoadState(ost); err != nil {
		return fail(err)
	}
	for i, p := range params {
		t.Backend.Copy(p.Value, t.Backend.FromHost(values[i], p.Value.Shape()...))
	}
	return st, nil
}
