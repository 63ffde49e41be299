//go:build unix

package memlink

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// processGone reports whether no process with this pid exists.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// ownDir reports whether de (an entry of the temporary directory) is a
// directory owned by this process's effective user.
func ownDir(de fs.DirEntry) bool {
	fi, err := de.Info()
	if err != nil || !fi.IsDir() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// fileInUse reports whether err is the failure to delete a file the
// system still holds; here a file in use can be deleted.
func fileInUse(err error) bool { return false }
