//go:build !(darwin || freebsd || linux || netbsd || windows)

package callpath

// HostCallbacksSupported reports whether HostCallbacks can create C
// callbacks on this platform.
const HostCallbacksSupported = false

func newCallback(any) uintptr { return 0 }
