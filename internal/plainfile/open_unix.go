//go:build unix

package plainfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// openFlags: read-only; O_NONBLOCK so that opening a FIFO does not wait
// for a writer (and a device's open does not wait for carrier);
// O_NOCTTY so that opening a terminal does not make it this process's
// controlling terminal; close-on-exec so that no child inherits it.
// O_NOFOLLOW would refuse every symbolic link, which users rely on.
const openFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC

func openInfo(path string) (*os.File, Info, error) {
	var fd int
	var err error
	for {
		if fd, err = unix.Open(path, openFlags, 0); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, Info{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	info, err := fstat(fd)
	if err == nil && info.Mode&unix.S_IFMT != unix.S_IFREG {
		err = ErrNotRegular
	}
	if err == nil {
		// Reads of a regular file never wait, but leaving O_NONBLOCK
		// on would make os.NewFile offer the descriptor to the poller
		// (kqueue accepts regular files and misreports them).
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, unix.O_RDONLY)
	}
	if err != nil {
		unix.Close(fd)
		return nil, Info{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), info, nil
}

func stat(f *os.File) (Info, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return Info{}, err
	}
	var info Info
	var serr error
	if err := sc.Control(func(fd uintptr) { info, serr = fstat(int(fd)) }); err != nil {
		return Info{}, err
	}
	return info, serr
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
