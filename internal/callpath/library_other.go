//go:build !(darwin || freebsd || linux || netbsd || windows)

package callpath

func openLibrary(path, name string) (uintptr, error) { return 0, ErrUnsupported }

func lookupSymbol(h uintptr, name string) (uintptr, error) { return 0, ErrUnsupported }

func closeLibrary(h uintptr) error { return ErrUnsupported }
