package memlink

import (
	"errors"
	"hash"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/memlink/memlink-go/internal/callpath"

	"golang.org/x/sys/unix"
)

// memFile is a private copy's sealed in-memory file (Linux): a bare
// descriptor, read with pread, and an *os.File for it only when a worker
// process is to inherit it (File): os.NewFile costs a system call and a
// finalizer that a load in this process does not need.
type memFile struct {
	fd   int
	name string
	f    *os.File // made by File; then it owns fd
}

// memfdCopy copies src into a new memfd named "memlink:<name>", seals it
// against any change and returns it as a private file opened through
// /proc/self/fd. The memfd stays open while the library is loaded: the
// loader identifies images by path, and a closed descriptor number could be
// reused by the next copy. For the same reason a number whose image stayed
// mapped after its library was closed is never used again (stuckNames).
func memfdCopy(src io.Reader, size int64, name string, head []byte, h hash.Hash) (*privateFile, error) {
	fd, err := unix.MemfdCreate("memlink:"+name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, err
	}
	m := &memFile{fd: fd, name: "memlink:" + name}
	if err := copyInto(fdWriter(fd), src, size, head, h); err != nil {
		m.Close()
		return nil, err
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		m.Close()
		return nil, err
	}
	chosen, err := avoidStuckNames(fd)
	if err != nil {
		m.Close()
		return nil, err
	}
	if chosen != fd {
		m.Close()
		m.fd = chosen
	}
	path := "/proc/self/fd/" + strconv.Itoa(m.fd)
	if !procFDWorks(path) {
		m.Close()
		return nil, errors.New("no /proc/self/fd to open a memfd through")
	}
	return &privateFile{path: path, memfd: m}, nil
}

// fdWriter writes to a descriptor, all of each buffer.
type fdWriter int

func (w fdWriter) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Write(int(w), b[n:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return n, err
		case m == 0:
			return n, io.ErrShortWrite
		}
		n += m
	}
	return n, nil
}

// ReadAt reads the copy, as io.ReaderAt says.
func (m *memFile) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		k, err := unix.Pread(m.fd, b[n:], off+int64(n))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return n, err
		case k == 0:
			return n, io.EOF
		}
		n += k
	}
	return n, nil
}

// File returns the copy as an *os.File (for a worker process to inherit),
// which from then on owns the descriptor.
func (m *memFile) File() *os.File {
	if m.f == nil {
		m.f = os.NewFile(uintptr(m.fd), m.name)
	}
	return m.f
}

// Close closes the descriptor.
func (m *memFile) Close() error {
	if m.f != nil {
		return m.f.Close()
	}
	if m.fd < 0 {
		return nil
	}
	err := unix.Close(m.fd)
	m.fd = -1
	return err
}

// stuckNames holds the descriptor numbers whose /proc/self/fd/N name still
// belongs to a loaded image: the loader matches images by name before it
// opens anything, so a copy opened by such a name would get that old image
// back instead of its own bytes.
var stuckNames sync.Map // int -> struct{}

// avoidStuckNames returns a descriptor for the same memfd whose name no
// loaded image claims: fd itself, or a duplicate with another number. The
// caller keeps owning fd (and closes it when another number is returned);
// duplicates tried and refused are closed here.
func avoidStuckNames(fd int) (int, error) {
	var refused []int
	defer func() {
		for _, r := range refused {
			unix.Close(r)
		}
	}()
	cur := fd
	for range 64 {
		if _, stuck := stuckNames.Load(cur); !stuck {
			return cur, nil
		}
		next, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, cur+1)
		if err != nil {
			return -1, err
		}
		if cur != fd {
			refused = append(refused, cur)
		}
		cur = next
	}
	if cur != fd {
		refused = append(refused, cur)
	}
	return -1, errors.New("every descriptor number tried names an image that is still loaded")
}

// noteStuck records that the image loaded from p did not unmap when it was
// closed, so that no later copy is opened by its name. It runs after the
// library was closed and before the memfd is. An image whose page is seen
// unmapped is gone (one system call); otherwise the loader is asked. The
// library remembers an image found gone (freeLanes asks it again).
func (p *privateFile) noteStuck() {
	if p.memfd == nil {
		return
	}
	if p.lib != nil && !p.lib.StillLoaded() || p.lib == nil && !callpath.StillLoaded(p.path) {
		return
	}
	stuckNames.Store(p.memfd.fd, struct{}{})
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
