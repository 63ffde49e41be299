//go:build !unix && !windows

package plainfile

import (
	"os"
)

func openOS(path string) (*os.File, Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Info{}, err
	}
	info, err := stat(f)
	if err != nil {
		f.Close()
		return nil, Info{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return f, info, nil
}

func stat(f *os.File) (Info, error) {
	fi, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if !fi.Mode().IsRegular() {
		return Info{}, ErrNotRegular
	}
	return Info{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}, nil
}
