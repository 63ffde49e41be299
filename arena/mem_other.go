//go:build !(linux || darwin || freebsd || netbsd || windows)

package arena

func reserve(int) ([]byte, error) { return nil, ErrUnsupported }

func release([]byte) error { return ErrUnsupported }
