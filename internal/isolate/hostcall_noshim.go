//go:build unix && !amd64

package isolate

// shimSupported reports whether the worker's host table can tell a thread
// of the module's own from one of the Go runtime before entering Go. Here
// it cannot: such a thread blocks in the callback (see hostcall.go).
const shimSupported = false

// hostEntries returns the callbacks themselves.
func hostEntries(log, call uintptr, _ *uint64) (logPtr, callPtr uintptr) { return log, call }
