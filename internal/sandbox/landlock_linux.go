package sandbox

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock access rights by what they are for.
const (
	fsRead = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	// fsWrite is what a Write grant adds: writing, creating, renaming and
	// removing; never device nodes.
	fsWrite = unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR |
		unix.LANDLOCK_ACCESS_FS_REMOVE_FILE | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
		unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_MAKE_SOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_SYM |
		unix.LANDLOCK_ACCESS_FS_REFER | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	// fileRights are the rights that apply to a file (not a directory).
	fileRights = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE |
		unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
)

// handledFS returns the file system rights Landlock ABI abi knows: all of
// them are handled, so that what is not granted is denied.
func handledFS(abi int) uint64 {
	h := uint64(unix.LANDLOCK_ACCESS_FS_EXECUTE | fsRead | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE |
		unix.LANDLOCK_ACCESS_FS_MAKE_CHAR | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
		unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_MAKE_SOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_SYM)
	if abi >= 2 {
		h |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		h |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= landlockIoctl {
		h |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return h
}

// grant is one Landlock rule: a path and the rights beneath it.
type grant struct {
	path     string
	rights   uint64
	optional bool // skipped when the path does not exist
}

// loaderPaths are where the dynamic loader finds libraries and its
// cache: the module's dependencies (libc first) load from here, and so
// does the loader itself when the worker's program starts.
var loaderPaths = []string{"/lib", "/lib32", "/lib64", "/libx32", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/local/lib"}

// grants lists the rules of a plan: what loading and running need, then
// what the policy grants. exe is the program the worker runs.
func grants(pl *Plan) []grant {
	libs := uint64(fsRead | unix.LANDLOCK_ACCESS_FS_EXECUTE)
	var gs []grant
	for _, p := range loaderPaths {
		gs = append(gs, grant{path: p, rights: libs, optional: true})
	}
	gs = append(gs,
		grant{path: "/etc/ld.so.cache", rights: unix.LANDLOCK_ACCESS_FS_READ_FILE, optional: true},
		grant{path: "/dev/null", rights: unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE, optional: true},
		grant{path: "/dev/zero", rights: unix.LANDLOCK_ACCESS_FS_READ_FILE, optional: true},
		grant{path: "/dev/urandom", rights: unix.LANDLOCK_ACCESS_FS_READ_FILE, optional: true},
	)
	if pl.Module != "" {
		gs = append(gs, grant{path: pl.Module, rights: unix.LANDLOCK_ACCESS_FS_READ_FILE})
	}
	read := uint64(fsRead)
	if pl.Exec {
		read |= unix.LANDLOCK_ACCESS_FS_EXECUTE
	}
	for _, p := range pl.Read {
		gs = append(gs, grant{path: p, rights: read})
	}
	for _, p := range pl.Write {
		gs = append(gs, grant{path: p, rights: read | fsWrite})
	}
	return gs
}

// restrictLandlock restricts the calling thread to the plan's grants plus
// the program file exe, which the worker runs.
func restrictLandlock(pl *Plan, exe *os.File) error {
	attr := unix.LandlockRulesetAttr{Handled_access_fs: handledFS(pl.Landlock)}
	size := unsafe.Offsetof(attr.Handled_access_net)
	if pl.Landlock >= landlockNet && !pl.Network {
		attr.Handled_access_net = unix.LANDLOCK_ACCESS_NET_BIND_TCP | unix.LANDLOCK_ACCESS_NET_CONNECT_TCP
		size = unsafe.Offsetof(attr.Scoped)
	}
	if pl.Landlock >= landlockScope {
		// Signals only to processes in the sandbox: not the host, not
		// anything else of the same user.
		attr.Scoped = unix.LANDLOCK_SCOPE_SIGNAL
		if !pl.Network {
			attr.Scoped |= unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
		}
		size = unsafe.Offsetof(attr.Quiet_access_fs)
	}
	fd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if errno != 0 {
		return fmt.Errorf("creating the ruleset: %w", errno)
	}
	ruleset := int(fd)
	defer unix.Close(ruleset)
	handled := attr.Handled_access_fs
	add := func(f int, rights uint64, isDir bool) error {
		if !isDir {
			rights &= fileRights
		}
		rule := unix.LandlockPathBeneathAttr{Allowed_access: rights & handled, Parent_fd: int32(f)}
		_, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(ruleset), unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&rule)), 0, 0, 0)
		if errno != 0 {
			return errno
		}
		return nil
	}
	if exe == nil {
		return errors.New("no program to grant")
	}
	if err := add(int(exe.Fd()), unix.LANDLOCK_ACCESS_FS_READ_FILE|unix.LANDLOCK_ACCESS_FS_EXECUTE, false); err != nil {
		return fmt.Errorf("granting the program: %w", err)
	}
	for _, g := range grants(pl) {
		// O_PATH follows symbolic links: a rule holds what the path
		// names now, and a link changed later cannot widen it.
		f, err := unix.Open(g.path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			if g.optional && err == unix.ENOENT {
				continue
			}
			return fmt.Errorf("%s: %w", g.path, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(f, &st)
		if err == nil {
			err = add(f, g.rights, st.Mode&unix.S_IFMT == unix.S_IFDIR)
		}
		unix.Close(f)
		if err != nil {
			return fmt.Errorf("%s: %w", g.path, err)
		}
	}
	_, _, errno = unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(ruleset), 0, 0)
	if errno != 0 {
		return fmt.Errorf("restricting: %w", errno)
	}
	return nil
}
