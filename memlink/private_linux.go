package memlink

import (
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// memfdCopy copies src into a new memfd named "memlink:<name>", seals it
// against any change and returns it as a private file opened through
// /proc/self/fd. The memfd stays open while the library is loaded: the
// loader identifies images by path, and a closed descriptor number could be
// reused by the next copy.
func memfdCopy(src io.Reader, size int64, name string, head []byte, h hash.Hash) (*privateFile, error) {
	fd, err := unix.MemfdCreate("memlink:"+name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "memlink:"+name)
	if err := copyInto(f, src, size, head, h); err != nil {
		f.Close()
		return nil, err
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, err
	}
	path := fmt.Sprintf("/proc/self/fd/%d", fd)
	if !procFDWorks(path) {
		f.Close()
		return nil, errors.New("no /proc/self/fd to open a memfd through")
	}
	return &privateFile{path: path, memfd: f}, nil
}

// procFDWorked records that a memfd could be reached through
// /proc/self/fd: /proc does not come and go, so one successful look is
// enough for the life of the process (a failure is looked at again).
var procFDWorked atomic.Bool

func procFDWorks(path string) bool {
	if procFDWorked.Load() {
		return true
	}
	if _, err := os.Stat(path); err != nil {
		return false
	}
	procFDWorked.Store(true)
	return true
}
