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
