//go:build (darwin || freebsd || linux || netbsd) && !((linux || darwin) && (amd64 || arm64) && !memlink_purego)

package callpath

import "github.com/ebitengine/purego"

// Where calls go through purego (other architectures, other systems, and
// builds with the tag memlink_purego), so do the loader's functions.

const (
	rtldNow   = purego.RTLD_NOW
	rtldLocal = purego.RTLD_LOCAL
	rtldLazy  = purego.RTLD_LAZY
)

// dlOpen returns the handle dlopen returned for path, or 0 and the
// loader's message.
func dlOpen(path string, mode int) (uintptr, string) {
	h, err := purego.Dlopen(path, mode)
	if err != nil {
		return 0, err.Error()
	}
	return h, ""
}

// dlSym returns the address of name in the library h, or 0.
func dlSym(h uintptr, name string) uintptr {
	p, err := purego.Dlsym(h, name)
	if err != nil {
		return 0
	}
	return p
}

// dlClose closes h; on failure it returns the loader's message.
func dlClose(h uintptr) (string, bool) {
	if err := purego.Dlclose(h); err != nil {
		return err.Error(), false
	}
	return "", true
}
