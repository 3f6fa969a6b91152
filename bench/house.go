package bench

import (
	"fmt"
	"os"
	"path/filepath"
)

// HouseModelDir is where the repository keeps eva's own pretrained base model.
const HouseModelDir = "assets/house-llama"

// HouseModel finds the house model in the repository around the working directory or the
// executable (EVA_HOUSE_MODEL overrides).
func HouseModel() (string, error) {
	if p := os.Getenv("EVA_HOUSE_MODEL"); p != "" {
		return p, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, s := range starts {
		for dir := s; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, HouseModelDir)
			if _, err := os.Stat(filepath.Join(p, "config.json")); err == nil {
				return p, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("the house model (%s) is not here: run eva inside the eva repository, set EVA_HOUSE_MODEL, or give --model DIR", HouseModelDir)
}
