package plainfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// ErrNotRegular reports a path that names something other than a regular
// file: a FIFO, a device, a socket or a directory. Open returns it inside
// an *os.PathError.
var ErrNotRegular = errors.New("not a regular file")

// Info is what Open learnt about the file from its descriptor. Fields a
// platform does not have are zero (Windows has no Unix mode, owner, device
// or inode numbers here).
type Info struct {
	Size  int64
	Mode  uint32 // Unix st_mode: type and permission bits
	Uid   uint32
	Gid   uint32
	Dev   uint64
	Ino   uint64
	Mtime int64 // modification time, nanoseconds since 1970
	Ctime int64 // status change time, nanoseconds since 1970 (Unix)
}

// Same reports whether i and j describe one file with unchanged contents
// as far as its status tells: the same file (where the platform gives
// device and inode numbers), with the same size and modification time. A
// write between the two looks changes the modification time, how finely
// depends on the file system (Linux since 6.13 makes a write right after
// a stat visible even on file systems with coarse clocks). The change time
// is not compared: renaming another file over this one, or chmod, changes
// it without touching the contents.
func (i Info) Same(j Info) bool {
	return i.Dev == j.Dev && i.Ino == j.Ino && i.Size == j.Size && i.Mtime == j.Mtime
}

// Open opens the regular file at path for reading, as described in the
// package documentation. Errors are *os.PathError naming path (with
// fs.ErrNotExist for a missing file and ErrNotRegular for a file of
// another kind).
func Open(path string) (*os.File, error) { return open(path) }

// File is a regular file open for reading, as OpenFile returns it: the
// least a module load needs (on Unix a bare descriptor, without the
// *os.File machinery, which costs two more system calls per open).
// Methods are not safe for concurrent use.
type File struct{ file }

// OpenFile opens path like Open and also returns what the descriptor's
// status says about the file, so that callers need not ask again.
func OpenFile(path string) (*File, Info, error) { return openFile(path) }

// ReadFile returns the contents of the regular file at path, refusing a
// file larger than limit bytes (without reading more than limit+1 of
// them) and, like Open, anything that is not a regular file.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, info, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size > limit {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("file is %d bytes, more than %d", info.Size, limit)}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("file grew past %d bytes while read", limit)}
	}
	return b, nil
}

// ReadDir is os.ReadDir (the entries of the directory at path, sorted by
// name) except that a path naming a FIFO fails at once with ENOTDIR
// instead of waiting for a writer.
func ReadDir(path string) ([]fs.DirEntry, error) {
	f, err := openDir(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, err
}
