package callpath

// rtldNoload is glibc's (and musl's) RTLD_NOLOAD, which purego does not
// name.
const rtldNoload = 0x4

// StillLoaded reports whether the dynamic loader still holds an image it
// would hand back for path without opening the file again: an image loaded
// by that name that did not unmap when it was closed (a module linked with
// -z nodelete, or one whose thread-local destructors glibc must keep). It
// takes and drops one reference to such an image.
func StillLoaded(path string) bool {
	h, _ := dlOpen(path, rtldLazy|rtldNoload)
	if h == 0 {
		return false
	}
	_, _ = dlClose(h)
	return true
}
