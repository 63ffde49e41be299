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
	"strings"
	"sync"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/plainfile"
)

// privateFile is a module's private copy: the file the loader opens
// instead of the original, so that the bytes validated are the bytes run,
// no other process can change them, and no two loads share an image.
type privateFile struct {
	path  string   // what to open
	memfd *memFile // Linux: the sealed in-memory file behind path; nil for a copy on disk
	head  []byte   // while it is checked: the copy's first bytes (abi.HeaderSize at most)
	size  int64    // the copy's size
	// exports are the ABI functions the copy's symbol table defines, as
	// its check read them: the copy cannot change, so Bind may trust them.
	exports abi.Exports
	// lib is the library this process opened from the copy, once bound
	// (nil for a copy only a worker process opens): closed before remove,
	// it tells whether its image can still be loaded (noteStuck).
	lib *callpath.Library
}

// remove releases the copy once the library that uses it is closed.
func (p *privateFile) remove() error {
	if p.memfd != nil {
		p.noteStuck()
		return p.memfd.Close()
	}
	return removePrivateCopy(p.path)
}

// readModule opens the module file at path once, applies the permission
// policy to that descriptor (unless rt allows insecure modules), refuses
// a file larger than the maximum module size, and validates its header
// with abi.CheckImage, all before copying anything. With private set it
// then copies the file from the same descriptor into a private copy (see
// privateCopy); otherwise it returns a nil copy and the caller opens path
// itself. With withDigest set it also returns the SHA-256 of the bytes
// copied, in hex.
func (rt *Runtime) readModule(path string, private, withDigest bool) (*privateFile, string, error) {
	open := openTrusted
	if rt.opts.insecure {
		open = openPlain
	}
	src, fi, err := open(path)
	if err != nil {
		return nil, "", err
	}
	defer src.Close()
	if limit := rt.opts.maxModuleSize; fi.Size > limit {
		return nil, "", fmt.Errorf("%w: %w: %s is %d bytes, more than the maximum module size of %d (memlink.WithMaxModuleSize)",
			ErrInvalidModule, ErrModuleTooLarge, path, fi.Size, limit)
	}
	head := headBufs.Get().(*[abi.HeaderSize]byte)[:min(fi.Size, abi.HeaderSize)]
	defer releaseHead(head)
	if _, err := io.ReadFull(src, head); err != nil {
		return nil, "", changedWhileRead(path, err)
	}
	// The header and the extent it declares, before copying anything;
	// the head is served from memory, the rest (program headers beyond
	// it) from the descriptor.
	orig := headReader{head: head, rest: src}
	if !private {
		// Loaded in place: the loader opens path itself, so this is
		// as much as can be checked.
		_, err := abi.CheckImage(path, head, orig, fi.Size)
		return nil, "", err
	}
	if _, err := abi.CheckHeaderFrom(path, head, orig, fi.Size); err != nil {
		return nil, "", err
	}
	pf, digest, err := rt.privateCopy(path, src, fi, head, withDigest)
	if err != nil {
		return nil, "", err
	}
	// The rest (dynamic section and what it points to) from the copy,
	// whose first bytes are head.
	pf.head = head
	img, err := checkCopy(path, pf)
	pf.head, pf.exports = nil, img.Exports
	if err != nil {
		_ = pf.remove()
		return nil, "", err
	}
	return pf, digest, nil
}

// headReader reads a file's first bytes from memory and the rest from the
// file.
type headReader struct {
	head []byte
	rest io.ReaderAt
}

func (r headReader) ReadAt(b []byte, off int64) (int, error) {
	if off < int64(len(r.head)) {
		n := copy(b, r.head[off:])
		if n == len(b) {
			return n, nil
		}
		m, err := r.rest.ReadAt(b[n:], off+int64(n))
		return n + m, err
	}
	return r.rest.ReadAt(b, off)
}

// openPlain opens the module file at path for reading (a regular file
// only) without the permission policy.
func openPlain(path string) (*plainfile.File, plainfile.Info, error) {
	f, fi, err := plainfile.OpenFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fi, fmt.Errorf("%w: no file at %s", ErrNotFound, path)
	case errors.Is(err, plainfile.ErrNotRegular):
		return nil, fi, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, plainfile.ErrNotRegular)
	case err != nil:
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fi, fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
	}
	return f, fi, nil
}

// changedWhileRead is the error of a module file that did not read back
// as its status described it.
func changedWhileRead(path string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s changed while it was read (it shrank)", ErrInvalidModule, path)
	}
	return fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
}

// privateCopy copies the module open as src (whose status is fi and whose
// first bytes, already read and validated, are head) into a private
// copy. On Linux the copy is a sealed memfd (no file system, nothing to
// clean up, and the kernel forbids any further write); elsewhere, or
// where that fails, it is a file of mode 0500 in a new subdirectory of the
// runtime's private directory (mode 0700), keeping its name. It copies
// exactly fi.Size bytes and then refuses the copy if the file's status
// says it changed meanwhile (size or modification time), so a
// file being rewritten is not half copied.
func (rt *Runtime) privateCopy(path string, src *plainfile.File, fi plainfile.Info, head []byte, withDigest bool) (*privateFile, string, error) {
	var h hash.Hash
	if withDigest {
		h = sha256.New()
	}
	name := filepath.Base(path)
	pf, err := memfdCopy(src, fi.Size, name, head, h)
	if err != nil && !errors.Is(err, errCopySource) {
		if h != nil {
			h.Reset()
		}
		if _, err := src.Seek(int64(len(head)), io.SeekStart); err != nil {
			return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err)
		}
		var dst string
		if dst, err = rt.diskCopy(src, fi.Size, name, head, h); err == nil {
			pf = &privateFile{path: dst}
		}
	}
	if err != nil {
		if errors.Is(err, errCopySource) {
			return nil, "", changedWhileRead(path, err)
		}
		return nil, "", fmt.Errorf("%w: copying %s: %v", ErrInvalidModule, path, err)
	}
	pf.size = fi.Size
	if now, err := src.Stat(); err != nil || !now.Same(fi) {
		_ = pf.remove()
		return nil, "", fmt.Errorf("%w: %s changed while it was copied", ErrInvalidModule, path)
	}
	if h == nil {
		return pf, "", nil
	}
	return pf, hex.EncodeToString(h.Sum(nil)), nil
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

// releaseHead gives a head buffer back for reuse.
func releaseHead(head []byte) {
	if cap(head) == abi.HeaderSize {
		headBufs.Put((*[abi.HeaderSize]byte)(head[:abi.HeaderSize]))
	}
}

// errCopySource marks a copy that failed because the source did not
// read as far as its size said (as opposed to a failure to write the copy).
var errCopySource = errors.New("source ended early")

// copyInto writes head and then the rest of the size bytes of src (which
// is positioned after head) to dst, feeding them to h as well when h is
// not nil. It reads exactly size-len(head) bytes, in chunks of at most
// copyChunk, so a module up to 64 KiB costs one write; io.Copy would first
// try copy_file_range, which fails from a disk file into a memfd, and
// read once more to see the end.
func copyInto(dst io.Writer, src io.Reader, size int64, head []byte, h hash.Hash) error {
	if _, err := dst.Write(head); err != nil {
		return err
	}
	if h != nil {
		h.Write(head)
	}
	rest := size - int64(len(head))
	if rest <= 0 {
		return nil
	}
	chunk := chunkBufs.Get().(*[copyChunk]byte)
	defer chunkBufs.Put(chunk)
	for rest > 0 {
		b := chunk[:min(copyChunk, rest)]
		if _, err := io.ReadFull(src, b); err != nil {
			return fmt.Errorf("%w: %w", errCopySource, err)
		}
		if _, err := dst.Write(b); err != nil {
			return err
		}
		if h != nil {
			h.Write(b)
		}
		rest -= int64(len(b))
	}
	return nil
}

// diskCopy writes src to a new file named name, readable and executable
// only by its owner, in a new subdirectory of the private directory.
func (rt *Runtime) diskCopy(src io.Reader, size int64, name string, head []byte, h hash.Hash) (path string, err error) {
	dir, err := rt.privateDir()
	if err != nil {
		return "", err
	}
	sub, err := os.MkdirTemp(dir, "")
	if err != nil {
		return "", err
	}
	path = filepath.Join(sub, name)
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o500)
	if err != nil {
		os.Remove(sub)
		return "", err
	}
	err = copyInto(out, src, size, head, h)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = removePrivateCopy(path) // best effort; the copy error is reported
		return "", err
	}
	return path, nil
}

// removePrivateCopy deletes a copy on disk and its subdirectory. A copy
// the system still holds (on Windows, the DLL of a module that pinned
// itself in memory, which stays loaded after Unload) is left in place
// without an error: Close removes the private directory, and what cannot
// go even then is removed by the stale-directory cleanup of the next
// process (removeStalePrivateDirs).
func removePrivateCopy(path string) error {
	err := os.Remove(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = nil
	case fileInUse(err):
		return nil
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

var staleOnce sync.Once

// removeStalePrivateDirs deletes private copy directories left in the
// temporary directory by processes that no longer exist (a host that
// crashed cannot clean up after itself). It runs once per process, and
// removes only directories this process's user owns: the name is no proof
// (anyone can create a directory called memlink-go-<pid>-x in /tmp), and
// running as root must not remove other users' files.
func removeStalePrivateDirs() {
	staleOnce.Do(func() {
		tmp := os.TempDir()
		ents, err := os.ReadDir(tmp)
		if err != nil {
			return
		}
		for _, de := range ents {
			name := de.Name()
			if !de.IsDir() || !strings.HasPrefix(name, privateDirPrefix) {
				continue
			}
			rest := strings.TrimPrefix(name, privateDirPrefix)
			pidText, _, ok := strings.Cut(rest, "-")
			pid, err := strconv.Atoi(pidText)
			if !ok || err != nil || pid <= 0 || pid == os.Getpid() || !ownDir(de) || !processGone(pid) {
				continue
			}
			os.RemoveAll(filepath.Join(tmp, name))
		}
	})
}
