//go:build !linux

package memlink

import (
	"errors"
	"hash"
	"io"
)

// memfdCopy is Linux-only; elsewhere private copies go to disk.
func memfdCopy(io.Reader, int64, string, []byte, hash.Hash) (*privateFile, error) {
	return nil, errors.New("memfd is Linux-only")
}

// noteStuck has nothing to do where private copies are files on disk: each
// has a name of its own, never reused.
func (p *privateFile) noteStuck() {}
