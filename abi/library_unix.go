//go:build darwin || freebsd || linux || netbsd

package abi

import (
	"fmt"

	"github.com/ebitengine/purego"
)

func openLibrary(path string) (uintptr, error) {
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: dynamic loader: %v", ErrInvalidModule, path, err)
	}
	return h, nil
}

func lookupSymbol(h uintptr, name string) (uintptr, error) {
	return purego.Dlsym(h, name)
}

func closeLibrary(h uintptr) error {
	return purego.Dlclose(h)
}
