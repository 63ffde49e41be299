//go:build darwin || freebsd || linux || netbsd

package rawloader

import "github.com/ebitengine/purego"

// Open opens the library at path.
func Open(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
}

// Sym returns the address of the symbol name in lib.
func Sym(lib uintptr, name string) (uintptr, error) { return purego.Dlsym(lib, name) }

// Close closes lib.
func Close(lib uintptr) error { return purego.Dlclose(lib) }
