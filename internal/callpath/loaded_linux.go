package callpath

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rtldNoload is glibc's (and musl's) RTLD_NOLOAD, which purego does not
// name.
const rtldNoload = 0x4

// StillLoaded reports whether the dynamic loader still holds an image it
// would hand back for path without opening the file again: an image loaded
// by that name that did not unmap when it was closed (a module linked with
// -z nodelete, or one whose thread-local destructors glibc must keep). It
// takes and drops one reference to such an image.
//
// It asks the loader (dlopen with RTLD_NOLOAD), which for an image that is
// gone opens path to compare the file with the images it holds (four
// system calls) and formats an error; [Library.MayStayLoaded] is cheaper
// and answers first for most libraries.
func StillLoaded(path string) bool {
	h, _ := dlOpen(path, rtldLazy|rtldNoload)
	if h == 0 {
		return false
	}
	_, _ = dlClose(h)
	return true
}

// MayStayLoaded reports, for a closed library, whether its image may
// still be loaded: false only when the page of the first symbol Lookup
// found is no longer mapped (mincore fails with ENOMEM), which a loaded
// image's never is. True for a library still open, one never looked
// into, or a page mapped again by then (by another library, say); the
// caller then asks [StillLoaded], which knows.
//
// Once it has answered false it answers false without looking again: an
// image that is gone does not come back.
func (l *Library) MayStayLoaded() bool {
	p := l.probe.Load()
	switch {
	case l.gone.Load():
		return false
	case !l.closed.Load() || p == 0:
		return true
	}
	page := uintptr(os.Getpagesize())
	var vec [1]byte
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, p&^(page-1), page, uintptr(unsafe.Pointer(&vec[0])))
	if errno == unix.ENOMEM {
		l.gone.Store(true)
		return false
	}
	return true
}

// StillLoaded is [StillLoaded] for the closed library's own path, asked
// only when [Library.MayStayLoaded] cannot tell; an image found gone is
// remembered, so that MayStayLoaded answers false from then on. The
// caller must ask while the path still names the library's file (for a
// private copy, before its descriptor is closed).
func (l *Library) StillLoaded() bool {
	switch {
	case !l.MayStayLoaded():
		return false
	case !l.closed.Load():
		return true
	case StillLoaded(l.path):
		return true
	}
	l.gone.Store(true)
	return false
}
