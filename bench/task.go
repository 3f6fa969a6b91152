package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eva-lora/eva/data"
	"github.com/eva-lora/eva/datasets"
)

// LoadTask reads a prepared task (`eva data prepare NAME`: NAME.train.jsonl, NAME.valid.jsonl,
// NAME.test.jsonl and NAME.meta.json in dir), tokenising train and valid with enc. maxTrain and
// maxTest cap the examples used (0 = all), keeping file order (the files are already shuffled).
// Training and validation examples longer than maxLen tokens (0 = no limit) keep their last maxLen
// tokens: the start of a long prompt goes, the completion stays.
func LoadTask(dir, name string, enc data.Encoder, maxTrain, maxTest, maxLen int) (*Task, error) {
	meta, err := datasets.ReadMeta(filepath.Join(dir, name+".meta.json"))
	if err != nil {
		return nil, err
	}
	if meta.Kind != datasets.Task {
		return nil, fmt.Errorf("%s is a %s, not a task with prompts and completions", name, meta.Kind)
	}
	t := &Task{Name: name, Candidates: meta.Labels}
	opts := data.Options{Encoder: enc}
	if t.Train, err = data.ReadFile(filepath.Join(dir, name+".train.jsonl"), opts); err != nil {
		return nil, err
	}
	if t.Valid, err = data.ReadFile(filepath.Join(dir, name+".valid.jsonl"), opts); err != nil {
		return nil, err
	}
	if maxTrain > 0 && len(t.Train) > maxTrain {
		t.Train = t.Train[:maxTrain]
	}
	if maxTest > 0 && len(t.Valid) > maxTest {
		t.Valid = t.Valid[:maxTest]
	}
	t.Train, t.Valid = keepEnd(t.Train, maxLen), keepEnd(t.Valid, maxLen)
	if t.Test, err = readItems(filepath.Join(dir, name+".test.jsonl"), maxTest); err != nil {
		return nil, err
	}
	if len(t.Train) == 0 || len(t.Valid) == 0 || len(t.Test) == 0 {
		return nil, fmt.Errorf("task %s in %s: a split is empty (train %d, valid %d, test %d)", name, dir, len(t.Train), len(t.Valid), len(t.Test))
	}
	return t, nil
}

// readItems reads up to max (0 = all) prompt/completion lines as test items.
func readItems(path string, max int) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []Item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var it struct {
			Prompt     *string `json:"prompt"`
			Completion *string `json:"completion"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || it.Prompt == nil || it.Completion == nil {
			return nil, fmt.Errorf("%s:%d: want a {\"prompt\", \"completion\"} line", path, n)
		}
		items = append(items, Item{*it.Prompt, *it.Completion})
		if max > 0 && len(items) == max {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return items, nil
}

// keepEnd cuts each example longer than maxLen (0 = no limit) to its last maxLen tokens.
func keepEnd(exs []data.Example, maxLen int) []data.Example {
	if maxLen <= 0 {
		return exs
	}
	for i, ex := range exs {
		if n := len(ex.IDs); n > maxLen {
			ex.IDs = ex.IDs[n-maxLen:]
			if ex.Labels != nil {
				ex.Labels = ex.Labels[n-maxLen:]
			}
			exs[i] = ex
		}
	}
	return exs
}

// WriteTask writes a task in the layout LoadTask reads (NAME.{train,valid,test}.jsonl of
// {"prompt", "completion"} lines and NAME.meta.json), so a task of one's own can be used by eva demo
// and eva bench. labels are the candidate completions of a classification task (nil: open answers,
// scored by exact match).
func WriteTask(dir, name string, train, valid, test []Item, labels []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for split, items := range map[string][]Item{"train": train, "valid": valid, "test": test} {
		var b strings.Builder
		for _, it := range items {
			line, err := json.Marshal(map[string]string{"prompt": it.Prompt, "completion": it.Completion})
			if err != nil {
				return err
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, name+"."+split+".jsonl"), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	meta, err := json.Marshal(datasets.Meta{Name: name, Kind: datasets.Task, Labels: labels})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".meta.json"), meta, 0o644)
}

// ToyTask is a small learnable classification task (the label is the prompt's first word) for tests
// and smoke runs: n items split 3:1:1.
func ToyTask(n int) (train, valid, test []Item, labels []string) {
	for i := range n {
		w := []string{"red", "blue"}[i%2]
		it := Item{fmt.Sprintf("%s thing %d is", w, i), " " + w}
		switch i % 5 {
		case 3:
			valid = append(valid, it)
		case 4:
			test = append(test, it)
		default:
			train = append(train, it)
		}
	}
	return train, valid, test, []string{" blue", " red"}
}
