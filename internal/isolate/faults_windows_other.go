//go:build windows && !amd64

package isolate

// vehAddr reports that there is no exception handler for this
// architecture yet: a crash in the module reads as the runtime's exit
// status 2 (the exception is in the worker's output).
func vehAddr() uintptr { return 0 }
