//go:build !unix

package safetensors

import (
	"errors"
	"os"
)

// mapFile always fails on systems without syscall.Mmap; Open then reads the file into memory.
func mapFile(f *os.File, size int) ([]byte, error) {
	return nil, errors.New("mmap not supported on this system")
}

// unmapFile is never reached, since mapFile never succeeds.
func unmapFile(b []byte) error { return nil }
