//go:build !(darwin || freebsd || linux || netbsd || windows)

package rawloader

import "errors"

// ErrNoLoader is what every function returns where memlink cannot load
// modules either.
var ErrNoLoader = errors.New("no dynamic loader support on this platform")

// Open reports ErrNoLoader.
func Open(string) (uintptr, error) { return 0, ErrNoLoader }

// Sym reports ErrNoLoader.
func Sym(uintptr, string) (uintptr, error) { return 0, ErrNoLoader }

// Close reports ErrNoLoader.
func Close(uintptr) error { return ErrNoLoader }
