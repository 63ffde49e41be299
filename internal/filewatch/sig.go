package filewatch

import (
	"errors"
	"os"
	"time"
)

// Sig identifies one version of a file. The zero Sig stands for "no file".
// Sigs are comparable with ==.
type Sig struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
	mode         os.FileMode
}

// ErrNotRegular reports a path that exists but is not a regular file (a
// directory, FIFO, device or socket).
var ErrNotRegular = errors.New("not a regular file")

// Stat returns the signature of the file at path, following symbolic links
// (a symlink switched to another target is a new version). It fails for a
// missing file (fs.ErrNotExist) and, with ErrNotRegular, for anything but a
// regular file.
func Stat(path string) (Sig, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Sig{}, err
	}
	if !fi.Mode().IsRegular() {
		return Sig{}, ErrNotRegular
	}
	s := Sig{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode()}
	fillSys(&s, path, fi)
	return s, nil
}

// Exists reports whether s describes a file.
func (s Sig) Exists() bool { return s != Sig{} }

// Size is the file's size in bytes.
func (s Sig) Size() int64 { return s.size }

// ModTime is the file's modification time.
func (s Sig) ModTime() time.Time { return time.Unix(0, s.mtime) }

// ID identifies a file or directory regardless of its contents: the same
// ID means the same object, not the same version. Comparable with ==.
type ID struct{ dev, ino uint64 }

// Identify returns the ID of whatever path names now (following symbolic
// links); where the platform gives no inode, the ID is zero and every
// object looks the same.
func Identify(path string) (ID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return ID{}, err
	}
	var s Sig
	fillSys(&s, path, fi)
	return ID{s.dev, s.ino}, nil
}
