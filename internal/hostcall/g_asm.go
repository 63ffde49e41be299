//go:build amd64 || arm64

package hostcall

// G returns an identity of the calling goroutine: the address of its g,
// which stays the same while it lives (the runtime reuses it for a later
// goroutine once this one has exited).
//
//go:noescape
func G() uintptr

// Supported reports whether G tells goroutines apart on this platform.
const Supported = true
