package isolate

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// createShm returns an anonymous shared-memory file of size bytes. On Linux
// it is a memfd: no name in any file system, nothing to clean up, freed
// when the last descriptor and mapping go.
func createShm(size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("memlink-isolate", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("isolate: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memlink-isolate")
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("isolate: sizing the shared region: %w", err)
	}
	return f, nil
}
