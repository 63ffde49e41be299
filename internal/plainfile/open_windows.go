package plainfile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// sharingPatience is how long Open keeps retrying a file another process
// holds open without read sharing.
const sharingPatience = 2 * time.Second

// openOS opens path read-only. A file another process has open without
// sharing it for reading (a compiler or linker still writing it, a virus
// scanner looking at it) fails with a sharing violation on Windows; it is
// retried for up to two seconds, with growing pauses, because such holds
// are brief and a module rebuilt in place is exactly when a hot reload
// opens it. Other errors return at once. Opening does not read, so a
// console or pipe is refused before it could block.
func openOS(path string) (*os.File, Info, error) {
	deadline := time.Now().Add(sharingPatience)
	pause := 5 * time.Millisecond
	for {
		f, err := os.Open(path)
		if err == nil {
			info, err := stat(f)
			if err != nil {
				f.Close()
				return nil, Info{}, &os.PathError{Op: "open", Path: path, Err: err}
			}
			return f, info, nil
		}
		if !errors.Is(err, windows.ERROR_SHARING_VIOLATION) || time.Now().After(deadline) {
			return nil, Info{}, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 200*time.Millisecond)
	}
}

func stat(f *os.File) (Info, error) {
	h := windows.Handle(f.Fd())
	if t, err := windows.GetFileType(h); err != nil {
		return Info{}, err
	} else if t != windows.FILE_TYPE_DISK {
		return Info{}, ErrNotRegular
	}
	var bi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &bi); err != nil {
		return Info{}, err
	}
	if bi.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0 {
		return Info{}, ErrNotRegular
	}
	return Info{
		Size:  int64(bi.FileSizeHigh)<<32 | int64(bi.FileSizeLow),
		Dev:   uint64(bi.VolumeSerialNumber),
		Ino:   uint64(bi.FileIndexHigh)<<32 | uint64(bi.FileIndexLow),
		Mtime: bi.LastWriteTime.Nanoseconds(),
	}, nil
}

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
