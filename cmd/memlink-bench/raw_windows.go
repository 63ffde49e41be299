//go:build windows

package main

import "golang.org/x/sys/windows"

// The raw loader the baselines use: the Windows loader, with nothing
// around it. The flags are the ones memlink opens modules with.

func rawOpen(path string) (uintptr, error) {
	h, err := windows.LoadLibraryEx(path, 0, windows.LOAD_WITH_ALTERED_SEARCH_PATH)
	return uintptr(h), err
}

func rawSym(lib uintptr, name string) (uintptr, error) {
	return windows.GetProcAddress(windows.Handle(lib), name)
}

func rawClose(lib uintptr) error { return windows.FreeLibrary(windows.Handle(lib)) }
