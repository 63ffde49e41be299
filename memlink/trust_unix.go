//go:build unix

package memlink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/memlink/memlink-go/internal/plainfile"
)

// The permission policy (docs/security.md, "Permission policy"): a module
// is refused with ErrInsecureModule when a user other than this process's
// (or root) could have replaced what it loads. It looks at:
//
//   - the file itself, through the descriptor that is then copied: it must
//     be owned by this process's effective user or root, not writable by
//     every user, and not writable by its group unless that group is this
//     process's effective group;
//   - every directory the lookup of the path passes through, from the root
//     down to the directory that really holds the file, including the
//     directories that hold each symbolic link followed and those its
//     target walks through: owned by this user or root, and not writable
//     by every user, nor by a group other than this process's, unless the
//     sticky bit is set (as on /tmp: others may then create entries but
//     not rename or delete this user's);
//   - every symbolic link followed: owned by this user or root (in a
//     sticky directory the owner of a link may still replace it).
//
// The lookup is redone here, one component at a time with lstat, and the
// file it ends at must be the file the descriptor has open (same device
// and inode): a path whose meaning changes between the two is looked up
// again, a few times, and then refused. Only the owner of a directory can
// change its mode or owner, and the owner is checked to be trusted, so a
// directory found trusted here cannot have been writable by others when
// the file was opened through it.

// maxLinks bounds the symbolic links one lookup follows, like the
// kernel's own limit (40 on Linux).
const maxLinks = 40

// trustPolicy is who may have written what a module load reads: this
// process's effective user and group, read for each load (a process may
// change them), the group only when a group-writable entry is met.
type trustPolicy struct {
	uid uint32
	gid int64 // -1 until needed
}

func currentTrust() *trustPolicy {
	return &trustPolicy{uid: uint32(os.Geteuid()), gid: -1}
}

// ownGroup reports whether gid is this process's effective group.
func (p *trustPolicy) ownGroup(gid uint32) bool {
	if p.gid < 0 {
		p.gid = int64(os.Getegid())
	}
	return int64(gid) == p.gid
}

// owner says why a file or directory owned by uid is not trusted, or "".
func (p *trustPolicy) owner(uid uint32) string {
	if uid == p.uid || uid == 0 {
		return ""
	}
	return "is owned by another user (uid " + fmt.Sprint(uid) + ")"
}

// writable says why mode (with group gid) lets others replace an entry, or
// "". dir says mode belongs to a directory, for which the sticky bit makes
// writability by others harmless.
func (p *trustPolicy) writable(mode, gid uint32, dir bool) string {
	if dir && mode&unix.S_ISVTX != 0 {
		return ""
	}
	switch {
	case mode&0o002 != 0:
		return fmt.Sprintf("is writable by every user (mode %04o)", mode&0o7777)
	case mode&0o020 != 0 && !p.ownGroup(gid):
		return fmt.Sprintf("is writable by group %d, which this process does not run as (mode %04o)", gid, mode&0o7777)
	}
	return ""
}

func insecure(what, path, why string) error {
	return fmt.Errorf("%w: %s%s %s; allow with memlink.WithInsecureModules", ErrInsecureModule, what, path, why)
}

// checkFile applies the policy to the file a descriptor has open.
func (p *trustPolicy) checkFile(path string, fi plainfile.Info) error {
	if why := p.writable(fi.Mode, fi.Gid, false); why != "" {
		return insecure("", path, why+"; chmod it")
	}
	if why := p.owner(fi.Uid); why != "" {
		return insecure("", path, why+", who could replace it")
	}
	return nil
}

// openTrusted opens the module file at path once, for reading, and
// applies the permission policy to that descriptor and to the lookup
// that reached it. It refuses anything but a regular file before opening
// it (opening some devices has effects).
func openTrusted(path string) (*plainfile.File, plainfile.Info, error) {
	p := currentTrust()
	for try := 0; ; try++ {
		end, err := p.walk(path)
		if err != nil {
			return nil, plainfile.Info{}, err
		}
		if end.Mode&unix.S_IFMT != unix.S_IFREG {
			return nil, plainfile.Info{}, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, plainfile.ErrNotRegular)
		}
		f, fi, err := openPlain(path)
		if err != nil {
			return nil, plainfile.Info{}, err
		}
		if fi.Dev == end.Dev && fi.Ino == end.Ino {
			if err := p.checkFile(path, fi); err != nil {
				f.Close()
				return nil, plainfile.Info{}, err
			}
			return f, fi, nil
		}
		f.Close()
		if try == 3 {
			return nil, plainfile.Info{}, fmt.Errorf("%w: %s changed each time it was opened", ErrInvalidModule, path)
		}
	}
}

// walk looks path up one component at a time, applying the policy to
// every directory and symbolic link on the way, and returns the status of
// the entry it ends at (not yet checked: the caller checks the descriptor
// it opens).
func (p *trustPolicy) walk(path string) (plainfile.Info, error) {
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return plainfile.Info{}, fmt.Errorf("%w: %s: %v", ErrInsecureModule, path, err)
		}
		path = filepath.Join(wd, path)
	}
	if err := p.checkDir("/"); err != nil {
		return plainfile.Info{}, err
	}
	resolved, rest, links := "/", path, 0
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			// The path ends at a directory (or is "/"): report it.
			return lstat(resolved)
		}
		comp, tail, _ := strings.Cut(rest, "/")
		rest = tail
		switch comp {
		case ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved) // already checked on the way down
			continue
		}
		// resolved is clean and comp one name (not "", "." or ".."), so
		// concatenating is filepath.Join without its Clean.
		next := resolved + "/" + comp
		if resolved == "/" {
			next = "/" + comp
		}
		st, err := lstat(next)
		if err != nil {
			return plainfile.Info{}, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			if links++; links > maxLinks {
				return plainfile.Info{}, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, unix.ELOOP)
			}
			if why := p.owner(st.Uid); why != "" {
				return plainfile.Info{}, insecure("symbolic link ", next, why+", who could point it elsewhere")
			}
			target, err := os.Readlink(next)
			if err != nil {
				return plainfile.Info{}, fmt.Errorf("%w: %v", ErrInvalidModule, err)
			}
			if filepath.IsAbs(target) {
				resolved = "/"
			}
			rest = target + "/" + rest
		case unix.S_IFDIR:
			if err := p.check(next, st, true); err != nil {
				return plainfile.Info{}, err
			}
			resolved = next
		default:
			if strings.Trim(rest, "/") != "" {
				return plainfile.Info{}, fmt.Errorf("%w: %s: %v", ErrNotFound, path, unix.ENOTDIR)
			}
			return st, nil
		}
	}
}

func (p *trustPolicy) checkDir(dir string) error {
	st, err := lstat(dir)
	if err != nil {
		return err
	}
	return p.check(dir, st, true)
}

func (p *trustPolicy) check(dir string, st plainfile.Info, isDir bool) error {
	if why := p.writable(st.Mode, st.Gid, isDir); why != "" {
		return insecure("directory ", dir, why+", so what it holds could be swapped")
	}
	if why := p.owner(st.Uid); why != "" {
		return insecure("directory ", dir, why+", who could swap what it holds")
	}
	return nil
}

// lstat returns the status of the entry at path itself. A missing entry
// is ErrNotFound; other failures ErrInvalidModule.
func lstat(path string) (plainfile.Info, error) {
	var st unix.Stat_t
	for {
		err := unix.Lstat(path, &st)
		switch {
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.ENOENT):
			return plainfile.Info{}, fmt.Errorf("%w: no file at %s", ErrNotFound, path)
		case err != nil:
			return plainfile.Info{}, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
		}
		return plainfile.FromStat(&st), nil
	}
}
