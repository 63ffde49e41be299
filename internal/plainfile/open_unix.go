//go:build unix

package plainfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// Open opens path read-only, close-on-exec, without the network poller.
// Errors are *os.PathError, as from os.Open (errors.Is(err,
// fs.ErrNotExist) holds for a missing file).
func Open(path string) (*os.File, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
