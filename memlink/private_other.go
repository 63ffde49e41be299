//go:build !linux

package memlink

import (
	"errors"
	"hash"
	"io"
	"os"
)

// memfdCopy is Linux-only; elsewhere private copies go to disk.
func memfdCopy(io.Reader, int64, string, []byte, hash.Hash) (*privateFile, error) {
	return nil, errors.New("memfd is Linux-only")
}

// noteStuck has nothing to do where private copies are files on disk: each
// has a name of its own, never reused.
func (p *privateFile) noteStuck() {}

// A memFile exists only on Linux; this type and its methods keep the code
// that uses one compiling.
type memFile struct{}

func (m *memFile) ReadAt([]byte, int64) (int, error) { return 0, errors.ErrUnsupported }

func (m *memFile) File() *os.File { return nil }

func (m *memFile) Close() error { return nil }
