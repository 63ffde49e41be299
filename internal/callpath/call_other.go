//go:build !(darwin || freebsd || linux || netbsd || windows)

package callpath

// internalCode reads as CodeInternal once truncated to int32.
const internalCode = ^uintptr(2)

// On platforms without a loader nothing can be opened, so nothing is ever
// called; these keep the package compiling.

func callRaw(uintptr) uintptr { return internalCode }

func callBytes(uintptr, []byte) uintptr { return internalCode }

func invoke(f *Frame, n int) { f.ret = internalCode }

// Name names how calls reach C on this platform: none here.
const Name = "none"
