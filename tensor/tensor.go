// Package tensor defines eva's one tensor type and the Backend interface that owns its storage
// and runs every kernel on it.
//
// Conventions: tensors are dense, row-major (C order), float32. A Tensor is a view: a shape, an
// element offset and a Storage that belongs to exactly one Backend. Views made with Rows, Reshape and
// View share storage with their parent; nothing is copied. Model code never touches storage directly:
// it calls Backend methods, so a GPU backend can slot in without changes to the models.
package tensor

import (
	"fmt"
	"strings"
)

// Storage is a backend-owned block of float32 elements.
type Storage interface {
	// Len is the number of float32 elements the storage holds.
	Len() int
}

// Tensor is a dense row-major float32 array: a view of Len() elements of a Storage starting at an offset.
type Tensor struct {
	shape   []int
	offset  int
	storage Storage
	backend Backend
}

// New wraps storage owned by backend as a tensor of the given shape starting at element offset.
// Backends call it; other code allocates through a Backend.
func New(backend Backend, storage Storage, offset int, shape ...int) *Tensor {
	n := Numel(shape)
	if offset < 0 || offset+n > storage.Len() {
		panic(fmt.Sprintf("tensor: view [%d, %d) outside storage of %d elements", offset, offset+n, storage.Len()))
	}
	return &Tensor{shape: append([]int(nil), shape...), offset: offset, storage: storage, backend: backend}
}

// Numel is the number of elements of a shape (1 for a scalar shape).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// Shape returns the tensor's dimensions. The caller must not modify the returned slice.
func (t *Tensor) Shape() []int { return t.shape }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Len is the number of elements.
func (t *Tensor) Len() int { return Numel(t.shape) }

// Offset is the element offset of the view in its storage.
func (t *Tensor) Offset() int { return t.offset }

// Storage is the backend-owned storage the view reads.
func (t *Tensor) Storage() Storage { return t.storage }

// Backend is the backend that owns the storage.
func (t *Tensor) Backend() Backend { return t.backend }

// Reshape returns a view with a new shape of the same number of elements. One dimension may be -1.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = append([]int(nil), shape...)
	infer, known := -1, 1
	for i, d := range shape {
		if d == -1 {
			if infer >= 0 {
				panic("tensor: Reshape with more than one -1")
			}
			infer = i
			continue
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 || t.Len()%known != 0 {
			panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.shape, shape))
		}
		shape[infer] = t.Len() / known
	}
	if Numel(shape) != t.Len() {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.shape, shape))
	}
	return &Tensor{shape: shape, offset: t.offset, storage: t.storage, backend: t.backend}
}

// Rows returns the view of rows [i, j) along the first dimension.
func (t *Tensor) Rows(i, j int) *Tensor {
	if len(t.shape) == 0 || i < 0 || j < i || j > t.shape[0] {
		panic(fmt.Sprintf("tensor: Rows(%d, %d) of shape %v", i, j, t.shape))
	}
	inner := Numel(t.shape[1:])
	shape := append([]int{j - i}, t.shape[1:]...)
	return &Tensor{shape: shape, offset: t.offset + i*inner, storage: t.storage, backend: t.backend}
}

// View returns the view of Numel(shape) elements starting at element offset off of this view.
func (t *Tensor) View(off int, shape ...int) *Tensor {
	n := Numel(shape)
	if off < 0 || off+n > t.Len() {
		panic(fmt.Sprintf("tensor: View(%d, %v) of %v", off, shape, t.shape))
	}
	return &Tensor{shape: append([]int(nil), shape...), offset: t.offset + off, storage: t.storage, backend: t.backend}
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b *Tensor) bool {
	if len(a.shape) != len(b.shape) {
		return false
	}
	for i := range a.shape {
		if a.shape[i] != b.shape[i] {
			return false
		}
	}
	return true
}

// String describes the tensor without its data.
func (t *Tensor) String() string {
	parts := make([]string, len(t.shape))
	for i, d := range t.shape {
		parts[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("Tensor[%s]@%s", strings.Join(parts, "x"), t.backend.Name())
}
