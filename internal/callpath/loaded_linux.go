package callpath

import "github.com/ebitengine/purego"

// rtldNoload is glibc's (and musl's) RTLD_NOLOAD, which purego does not
// name.
const rtldNoload = 0x4

// StillLoaded reports whether the dynamic loader still holds an image it
// would hand back for path without opening the file again: an image loaded
// by that name that did not unmap when it was closed (a module linked with
// -z nodelete, or one whose thread-local destructors glibc must keep). It
// takes and drops one reference to such an image.
func StillLoaded(path string) bool {
	h, err := purego.Dlopen(path, purego.RTLD_LAZY|rtldNoload)
	if err != nil || h == 0 {
		return false
	}
	_ = purego.Dlclose(h)
	return true
}
