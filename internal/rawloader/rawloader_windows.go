package rawloader

import "golang.org/x/sys/windows"

// Open opens the library at path.
func Open(path string) (uintptr, error) {
	h, err := windows.LoadLibraryEx(path, 0, windows.LOAD_WITH_ALTERED_SEARCH_PATH)
	return uintptr(h), err
}

// Sym returns the address of the symbol name in lib.
func Sym(lib uintptr, name string) (uintptr, error) {
	return windows.GetProcAddress(windows.Handle(lib), name)
}

// Close closes lib.
func Close(lib uintptr) error { return windows.FreeLibrary(windows.Handle(lib)) }
