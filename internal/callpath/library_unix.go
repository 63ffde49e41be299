//go:build darwin || freebsd || linux || netbsd

package callpath

import (
	"github.com/memlink/memlink-go/abi"

	"fmt"
	"strings"

	"github.com/ebitengine/purego"
)

func openLibrary(path, name string) (uintptr, error) {
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: dynamic loader: %s", abi.ErrInvalidModule, name, strings.ReplaceAll(err.Error(), path, name))
	}
	return h, nil
}

func lookupSymbol(h uintptr, name string) (uintptr, error) {
	return purego.Dlsym(h, name)
}

func closeLibrary(h uintptr) error {
	return purego.Dlclose(h)
}
