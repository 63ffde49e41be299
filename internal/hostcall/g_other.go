//go:build !(amd64 || arm64)

package hostcall

// G returns 0 on this platform: calls cannot be told apart, and callbacks
// are served as made outside any call.
func G() uintptr { return 0 }

// Supported reports whether G tells goroutines apart on this platform.
const Supported = false
