package filewatch

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
)

// inotifyNotifier wakes on writes, renames, creations, deletions and
// attribute changes in the watched directories. Directories are watched
// rather than files because deploys replace files (rename over, unlink and
// create, switch a symlink), which a watch on the file itself would lose.
type inotifyNotifier struct {
	fd  int
	buf []byte
}

// NewNotifier watches dirs with inotify; where inotify is unavailable (no
// instances left, a file system without it) it falls back to Poll, which
// the watcher's interval covers.
func NewNotifier(dirs ...string) Notifier {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return pollNotifier{}
	}
	mask := uint32(unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CREATE |
		unix.IN_ATTRIB | unix.IN_MODIFY | unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF)
	added := 0
	for _, d := range dirs {
		if _, err := unix.InotifyAddWatch(fd, d, mask); err == nil {
			added++
		}
	}
	if added == 0 {
		unix.Close(fd)
		return pollNotifier{}
	}
	return &inotifyNotifier{fd: fd, buf: make([]byte, 4096)}
}

// slice bounds one poll so that a cancelled context is noticed promptly.
const slice = 100 * time.Millisecond

func (n *inotifyNotifier) Wait(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if ctx.Err() != nil {
			return false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		fds := []unix.PollFd{{Fd: int32(n.fd), Events: unix.POLLIN}}
		k, err := unix.Poll(fds, int(min(left, slice)/time.Millisecond)+1)
		if err == nil && k > 0 {
			// Drain the queue: which file changed does not matter, the
			// watcher compares signatures.
			for {
				if m, err := unix.Read(n.fd, n.buf); m <= 0 || err != nil {
					break
				}
			}
			return ctx.Err() == nil
		}
	}
}

func (n *inotifyNotifier) Close() { unix.Close(n.fd) }
