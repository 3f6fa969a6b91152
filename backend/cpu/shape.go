package cpu

import (
	"fmt"
	"slices"

	"github.com/eva-lora/eva/tensor"
)

// mustShape panics unless t has exactly the given dimensions.
func mustShape(op, name string, t *tensor.Tensor, dims ...int) {
	if !slices.Equal(t.Shape(), dims) {
		panic(fmt.Sprintf("cpu: %s: %s has shape %v, want %v", op, name, t.Shape(), dims))
	}
}

// mustRank panics unless t has rank r, and returns its shape.
func mustRank(op, name string, t *tensor.Tensor, r int) []int {
	if t.Rank() != r {
		panic(fmt.Sprintf("cpu: %s: %s has shape %v, want rank %d", op, name, t.Shape(), r))
	}
	return t.Shape()
}

// mustLen panics unless t has n elements.
func mustLen(op, name string, t *tensor.Tensor, n int) {
	if t.Len() != n {
		panic(fmt.Sprintf("cpu: %s: %s has %d elements (shape %v), want %d", op, name, t.Len(), t.Shape(), n))
	}
}

// matrix checks that t is rank 2 and returns its rows and columns.
func matrix(op, name string, t *tensor.Tensor) (rows, cols int) {
	s := mustRank(op, name, t, 2)
	return s[0], s[1]
}
