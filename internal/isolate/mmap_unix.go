//go:build unix

package isolate

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapShared maps size bytes of f read-write and shared.
func mapShared(f *os.File, size int) ([]byte, error) {
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("isolate: mapping the shared region: %w", err)
	}
	return b, nil
}

func unmap(b []byte) error { return unix.Munmap(b) }

// protectNone makes b inaccessible, so that touching it faults.
func protectNone(b []byte) error { return unix.Mprotect(b, unix.PROT_NONE) }
