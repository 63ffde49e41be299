//go:build unix && !linux

package isolate

import (
	"fmt"
	"os"
)

// createShm returns a shared-memory file of size bytes: a temporary file
// that is unlinked at once, so only the open descriptors (the host's and
// the worker's) keep it alive.
func createShm(size int) (*os.File, error) {
	f, err := os.CreateTemp("", "memlink-isolate-*")
	if err != nil {
		return nil, fmt.Errorf("isolate: shared region file: %w", err)
	}
	os.Remove(f.Name())
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("isolate: sizing the shared region: %w", err)
	}
	return f, nil
}
