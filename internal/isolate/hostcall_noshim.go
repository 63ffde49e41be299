//go:build !((unix && amd64) || (linux && arm64) || (windows && amd64))

package isolate

// hostEntries returns the callbacks themselves: here the worker's table
// cannot tell a thread of the module's own from one of the Go runtime
// before entering Go, and such a thread blocks in the callback (see
// hostcall.go).
func hostEntries(log, call uintptr, _ *uint64) (logPtr, callPtr uintptr) { return log, call }
