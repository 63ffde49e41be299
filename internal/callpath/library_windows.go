//go:build windows

package callpath

import (
	"github.com/memlink/memlink-go/abi"

	"fmt"

	"golang.org/x/sys/windows"
)

func openLibrary(path, name string) (uintptr, error) {
	// LOAD_WITH_ALTERED_SEARCH_PATH makes the loader look for the module's
	// own dependencies next to it rather than next to the host executable.
	h, err := windows.LoadLibraryEx(path, 0, windows.LOAD_WITH_ALTERED_SEARCH_PATH)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: LoadLibraryEx: %v", abi.ErrInvalidModule, name, err)
	}
	return uintptr(h), nil
}

func lookupSymbol(h uintptr, name string) (uintptr, error) {
	return windows.GetProcAddress(windows.Handle(h), name)
}

func closeLibrary(h uintptr) error {
	return windows.FreeLibrary(windows.Handle(h))
}
