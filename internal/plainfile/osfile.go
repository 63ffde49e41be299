//go:build !unix

package plainfile

import (
	"errors"
	"os"
)

// Where there is no bare descriptor to read (Windows and the platforms
// without a loader), a File wraps the *os.File that openOS opened.

func open(path string) (*os.File, error) {
	f, _, err := openOS(path)
	return f, err
}

type file struct{ f *os.File }

func openFile(path string) (*File, Info, error) {
	f, info, err := openOS(path)
	if err != nil {
		return nil, Info{}, err
	}
	return &File{file{f: f}}, info, nil
}

// Read reads up to len(b) bytes, returning io.EOF at the end of the file.
func (f *File) Read(b []byte) (int, error) { return f.f.Read(b) }

// ReadAt reads len(b) bytes at offset off, as io.ReaderAt says.
func (f *File) ReadAt(b []byte, off int64) (int, error) { return f.f.ReadAt(b, off) }

// Seek sets the offset of the next Read, as io.Seeker says.
func (f *File) Seek(offset int64, whence int) (int64, error) { return f.f.Seek(offset, whence) }

// Stat returns the file's status, read from its handle.
func (f *File) Stat() (Info, error) { return stat(f.f) }

// Close closes the file; closing it again does nothing.
func (f *File) Close() error {
	if err := f.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

// openDir opens a directory for reading its entries.
func openDir(path string) (*os.File, error) { return os.Open(path) }
