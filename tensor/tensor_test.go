package tensor

import (
	"reflect"
	"testing"
)

// hostStorage is a minimal Storage for testing views without a backend.
type hostStorage []float32

func (h hostStorage) Len() int { return len(h) }

func TestViewsShareStorageWithOffsets(t *testing.T) {
	s := make(hostStorage, 24)
	x := New(nil, s, 0, 2, 3, 4)
	if x.Len() != 24 || x.Rank() != 3 || x.Dim(-1) != 4 {
		t.Fatalf("shape %v len %d", x.Shape(), x.Len())
	}
	r := x.Rows(1, 2)
	if r.Offset() != 12 || !reflect.DeepEqual(r.Shape(), []int{1, 3, 4}) {
		t.Fatalf("Rows: offset %d shape %v", r.Offset(), r.Shape())
	}
	m := r.Reshape(-1, 2)
	if !reflect.DeepEqual(m.Shape(), []int{6, 2}) || m.Offset() != 12 || m.Storage() == nil {
		t.Fatalf("Reshape: shape %v offset %d", m.Shape(), m.Offset())
	}
	v := m.View(4, 2, 2)
	if v.Offset() != 16 || v.Len() != 4 {
		t.Fatalf("View: offset %d len %d", v.Offset(), v.Len())
	}
	if !SameShape(x.Reshape(6, 4), New(nil, s, 0, 6, 4)) || SameShape(x, m) {
		t.Fatal("SameShape")
	}
}

func TestBadViewsPanic(t *testing.T) {
	s := make(hostStorage, 6)
	x := New(nil, s, 0, 2, 3)
	for name, f := range map[string]func(){
		"reshape size":  func() { x.Reshape(4, 2) },
		"two -1":        func() { x.Reshape(-1, -1) },
		"rows range":    func() { x.Rows(1, 3) },
		"view overflow": func() { x.View(4, 3) },
		"beyond store":  func() { New(nil, s, 2, 2, 3) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
