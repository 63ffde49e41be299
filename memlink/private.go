package memlink

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/plainfile"
)

// privateFile is a module's private copy: the file the loader opens
// instead of the original, so that the bytes validated are the bytes run,
// no other process can change them, and no two loads share an image.
type privateFile struct {
	path  string   // what to open
	memfd *os.File // Linux: the sealed in-memory file behind path; nil for a copy on disk
	head  []byte   // the copy's first bytes (abi.HeaderSize at most), to validate
	size  int64    // the copy's size
}

// remove releases the copy once the library that uses it is closed.
func (p *privateFile) remove() error {
	if p.memfd != nil {
		return p.memfd.Close()
	}
	return removePrivateCopy(p.path)
}

// privateCopy copies the module at path. On Linux the copy is a sealed
// memfd (no file system, nothing to clean up, and the kernel forbids any
// further write); elsewhere, or where that fails, it is a file of mode 0500
// in a new subdirectory of the runtime's private directory (mode 0700),
// keeping its name. With withDigest set it also returns the SHA-256 of the
// bytes it copied, in hex.
func (rt *Runtime) privateCopy(path string, withDigest bool) (*privateFile, string, error) {
	src, err := plainfile.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, "", fmt.Errorf("%w: no file at %s", ErrNotFound, path)
	case err != nil:
		return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%w: %s is not a regular file (%s)", ErrInvalidModule, path, fi.Mode().Type())
	}
	var h hash.Hash
	if withDigest {
		h = sha256.New()
	}
	digest := func() string {
		if h == nil {
			return ""
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	if pf, err := memfdCopy(src, fi.Size(), filepath.Base(path), h); err == nil {
		pf.size = fi.Size()
		return pf, digest(), nil
	}
	if h != nil {
		h.Reset()
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
	}
	dst, head, err := rt.diskCopy(src, fi.Size(), filepath.Base(path), h)
	if err != nil {
		return nil, "", fmt.Errorf("%w: copying %s: %v", ErrInvalidModule, path, err)
	}
	return &privateFile{path: dst, head: head, size: fi.Size()}, digest(), nil
}

// copyChunk bounds the buffers copyInto reads through.
const copyChunk = 1 << 20

// headBufs and chunkBufs recycle copyInto's buffers: fresh memory costs a
// page fault per 4 KiB written into it, which on a VM cost more than the
// system calls of a small module's copy.
var (
	headBufs  = sync.Pool{New: func() any { return new([abi.HeaderSize]byte) }}
	chunkBufs = sync.Pool{New: func() any { return new([copyChunk]byte) }}
)

// releaseHead gives a head returned by copyInto back for reuse.
func releaseHead(head []byte) {
	if cap(head) == abi.HeaderSize {
		headBufs.Put((*[abi.HeaderSize]byte)(head[:abi.HeaderSize]))
	}
}

// copyInto copies the size bytes of src to dst, feeding them to h as well
// when h is not nil, and returns the first min(size, abi.HeaderSize) of
// them, which the caller validates instead of reading the copy again (and
// then passes to releaseHead). It reads exactly size bytes (the header,
// then chunks of at most copyChunk), so a module up to 64 KiB costs one
// read and one write; io.Copy would first try copy_file_range, which fails
// from a disk file into a memfd, and read once more to see the end.
func copyInto(dst io.Writer, src io.Reader, size int64, h hash.Hash) (head []byte, err error) {
	pass := func(b []byte) error {
		if _, err := io.ReadFull(src, b); err != nil {
			return err
		}
		if _, err := dst.Write(b); err != nil {
			return err
		}
		if h != nil {
			h.Write(b)
		}
		return nil
	}
	head = headBufs.Get().(*[abi.HeaderSize]byte)[:min(size, abi.HeaderSize)]
	if err := pass(head); err != nil {
		releaseHead(head)
		return nil, err
	}
	if rest := size - int64(len(head)); rest > 0 {
		chunk := chunkBufs.Get().(*[copyChunk]byte)
		defer chunkBufs.Put(chunk)
		for rest > 0 {
			b := chunk[:min(copyChunk, rest)]
			if err := pass(b); err != nil {
				releaseHead(head)
				return nil, err
			}
			rest -= int64(len(b))
		}
	}
	return head, nil
}

// diskCopy writes src to a new file named name, readable and executable
// only by its owner, in a new subdirectory of the private directory.
func (rt *Runtime) diskCopy(src io.Reader, size int64, name string, h hash.Hash) (path string, head []byte, err error) {
	dir, err := rt.privateDir()
	if err != nil {
		return "", nil, err
	}
	sub, err := os.MkdirTemp(dir, "")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(sub, name)
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o500)
	if err != nil {
		os.Remove(sub)
		return "", nil, err
	}
	head, err = copyInto(out, src, size, h)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = removePrivateCopy(path) // best effort; the copy error is reported
		return "", nil, err
	}
	return path, head, nil
}

// removePrivateCopy deletes a copy on disk and its subdirectory.
func removePrivateCopy(path string) error {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if rerr := os.Remove(filepath.Dir(path)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// privateDir returns the runtime's directory for private copies on disk,
// creating it (mode 0700) on first use.
func (rt *Runtime) privateDir() (string, error) {
	rt.privMu.Lock()
	defer rt.privMu.Unlock()
	if rt.privDir == "" {
		d, err := os.MkdirTemp("", privateDirPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			return "", fmt.Errorf("memlink: private module directory: %w", err)
		}
		rt.privDir = d
	}
	return rt.privDir, nil
}

// privateDirPrefix starts the names of the private copy directories, so
// that stale ones left by a crashed process can be recognised.
const privateDirPrefix = "memlink-go-"
