//go:build unix

package plainfile

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// openFlags: read-only; O_NONBLOCK so that opening a FIFO does not wait
// for a writer (and a device's open does not wait for carrier);
// O_NOCTTY so that opening a terminal does not make it this process's
// controlling terminal; close-on-exec so that no child inherits it.
// O_NOFOLLOW would refuse every symbolic link, which users rely on.
const openFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC

// openFD opens path and returns its descriptor and status if it is a
// regular file. The descriptor is still non-blocking, which changes
// nothing for a regular file.
func openFD(path string) (int, Info, error) {
	var fd int
	var err error
	for {
		if fd, err = unix.Open(path, openFlags, 0); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return -1, Info{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	info, err := fstat(fd)
	if err == nil && info.Mode&unix.S_IFMT != unix.S_IFREG {
		err = ErrNotRegular
	}
	if err != nil {
		unix.Close(fd)
		return -1, Info{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, info, nil
}

func open(path string) (*os.File, error) {
	fd, _, err := openFD(path)
	if err != nil {
		return nil, err
	}
	// Reads of a regular file never wait, but leaving O_NONBLOCK on
	// would make os.NewFile offer the descriptor to the poller (kqueue
	// accepts regular files and misreports them).
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, unix.O_RDONLY); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

type file struct {
	fd   int
	name string
}

func openFile(path string) (*File, Info, error) {
	fd, info, err := openFD(path)
	if err != nil {
		return nil, Info{}, err
	}
	return &File{file{fd: fd, name: path}}, info, nil
}

// Read reads up to len(b) bytes, returning io.EOF at the end of the file.
func (f *File) Read(b []byte) (int, error) {
	if f.fd < 0 {
		return 0, os.ErrClosed
	}
	for {
		n, err := unix.Read(f.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// ReadAt reads len(b) bytes at offset off, as io.ReaderAt says.
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	if f.fd < 0 {
		return 0, os.ErrClosed
	}
	n := 0
	for n < len(b) {
		m, err := unix.Pread(f.fd, b[n:], off+int64(n))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return n, &os.PathError{Op: "read", Path: f.name, Err: err}
		case m == 0:
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// Seek sets the offset of the next Read, as io.Seeker says.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if f.fd < 0 {
		return 0, os.ErrClosed
	}
	off, err := unix.Seek(f.fd, offset, whence)
	if err != nil {
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: err}
	}
	return off, nil
}

// Stat returns the file's status, read from its descriptor.
func (f *File) Stat() (Info, error) {
	if f.fd < 0 {
		return Info{}, os.ErrClosed
	}
	return fstat(f.fd)
}

// Close closes the file; closing it again does nothing.
func (f *File) Close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}

func fstat(fd int) (Info, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstat(fd, &st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Info{}, err
		}
		return FromStat(&st), nil
	}
}

// FromStat converts a stat result (from Lstat, say) to an Info.
func FromStat(st *unix.Stat_t) Info {
	return Info{
		Size:  st.Size,
		Mode:  uint32(st.Mode),
		Uid:   st.Uid,
		Gid:   st.Gid,
		Dev:   uint64(st.Dev), // int32 on some platforms
		Ino:   uint64(st.Ino), // uint32 on some platforms
		Mtime: unix.TimespecToNsec(st.Mtim),
		Ctime: unix.TimespecToNsec(st.Ctim),
	}
}

// openDir opens a directory for reading its entries. O_DIRECTORY makes the
// kernel refuse anything else before it would wait on a FIFO.
func openDir(path string) (*os.File, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
