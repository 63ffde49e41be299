package hotreload

import (
	"context"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// inotifyNotifier wakes the watcher as soon as the directory holding the
// file reports a write, rename, creation or attribute change. The directory
// is watched rather than the file because a rebuilt module usually arrives
// by a rename over the old one, which replaces the file being watched.
type inotifyNotifier struct {
	fd  int
	buf []byte
}

func newNotifier(path string) (notifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return pollNotifier{}, nil // fall back to polling
	}
	mask := uint32(unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_CREATE | unix.IN_ATTRIB | unix.IN_MODIFY | unix.IN_DELETE)
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(path), mask); err != nil {
		unix.Close(fd)
		return pollNotifier{}, nil
	}
	return &inotifyNotifier{fd: fd, buf: make([]byte, 4096)}, nil
}

// slice bounds one poll so that a cancelled context is noticed promptly.
const slice = 100 * time.Millisecond

func (n *inotifyNotifier) wait(ctx context.Context, d time.Duration) bool {
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
			// Drain the queue; which file changed does not matter, the
			// watcher compares the file itself.
			for {
				if m, err := unix.Read(n.fd, n.buf); m <= 0 || err != nil {
					break
				}
			}
			return ctx.Err() == nil
		}
	}
}

func (n *inotifyNotifier) close() { unix.Close(n.fd) }
