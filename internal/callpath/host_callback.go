//go:build darwin || freebsd || linux || netbsd || windows

package callpath

import "github.com/ebitengine/purego"

// HostCallbacksSupported reports whether HostCallbacks can create C
// callbacks on this platform.
const HostCallbacksSupported = true

func newCallback(fn any) uintptr { return purego.NewCallback(fn) }
