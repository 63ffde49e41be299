//go:build darwin || freebsd || linux || netbsd

package callpath

import (
	"github.com/memlink/memlink-go/abi"

	"fmt"
	"strings"
)

// The loader's functions (dlopen, dlsym, dlclose and dlerror) are reached
// through dlOpen, dlSym and dlClose: the call path's own trampoline where
// it exists (library_fast.go), purego's elsewhere (library_purego.go).

func openLibrary(path, name string) (uintptr, error) {
	h, msg := dlOpen(path, rtldNow|rtldLocal)
	if h == 0 {
		return 0, fmt.Errorf("%w: %s: dynamic loader: %s", abi.ErrInvalidModule, name, strings.ReplaceAll(msg, path, name))
	}
	return h, nil
}

func lookupSymbol(h uintptr, name string) (uintptr, error) {
	if p := dlSym(h, name); p != 0 {
		return p, nil
	}
	return 0, abi.ErrMissingSymbol // Lookup words the error
}

func closeLibrary(h uintptr) error {
	if msg, ok := dlClose(h); !ok {
		return fmt.Errorf("dynamic loader: %s", msg)
	}
	return nil
}
