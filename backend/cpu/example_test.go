package cpu_test

import (
	"fmt"

	"github.com/eva-lora/eva/backend/cpu"
)

// A linear layer's forward pass, y = x·Wᵀ, with W stored [out, in] as Hugging Face stores it.
func Example() {
	be := cpu.New()
	x := be.Wrap([]float32{1, 2, 3, 4, 5, 6}, 2, 3) // adopts the slice, no copy
	w := be.FromHost([]float32{1, 0, 0, 0, 1, 1}, 2, 3)
	y := be.Zeros(2, 2)
	be.Gemm(false, true, 1, x, w, 0, y)
	fmt.Println(cpu.Data(y))
	// Output: [1 5 4 11]
}
