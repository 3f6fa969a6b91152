package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/eva-lora/eva/hf/safetensors"
)

func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "adapter.safetensors")

	w := safetensors.F32("lora_A.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	if err := safetensors.Write(path, []safetensors.Tensor{w}, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}

	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Info("lora_A.weight")
	values, err := f.Float32("lora_A.weight")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Names(), info.DType, info.Shape, values, f.Metadata()["format"])
	// Output: [lora_A.weight] F32 [2 3] [1 2 3 4 5 6] pt
}
