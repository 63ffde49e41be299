//go:build unix

package memlink

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// checkPermissions refuses a module that someone other than this process's
// user (or root) could have replaced: a file that is writable by others or
// owned by another user, or any directory on its path that others can
// write to (unless it has the sticky bit, like /tmp, which stops them from
// renaming or deleting entries they do not own). This is the rule ssh
// applies to key files.
func checkPermissions(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInsecureModule, path, err)
	}
	uid := uint32(os.Geteuid())
	trusted := func(fi os.FileInfo) bool {
		st, ok := fi.Sys().(*syscall.Stat_t)
		return !ok || st.Uid == uid || st.Uid == 0
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil // a missing file is reported by the load itself
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("%w: %s is writable by every user (mode %v); chmod o-w it, or allow with memlink.WithInsecureModules",
			ErrInsecureModule, abs, fi.Mode().Perm())
	}
	if !trusted(fi) {
		return fmt.Errorf("%w: %s is owned by another user, who could replace it; allow with memlink.WithInsecureModules",
			ErrInsecureModule, abs)
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInsecureModule, dir, err)
		}
		if di.Mode().Perm()&0o002 != 0 && di.Mode()&os.ModeSticky == 0 {
			return fmt.Errorf("%w: directory %s is writable by every user (mode %v), so %s could be swapped; allow with memlink.WithInsecureModules",
				ErrInsecureModule, dir, di.Mode().Perm(), filepath.Base(abs))
		}
		if !trusted(di) {
			return fmt.Errorf("%w: directory %s is owned by another user, who could swap %s; allow with memlink.WithInsecureModules",
				ErrInsecureModule, dir, filepath.Base(abs))
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil
		}
	}
}
