//go:build (unix && amd64) || (linux && arm64) || (windows && amd64)

package isolate

import "unsafe"

// Read by the host-table entries in hostcall_shim_*.s; written once,
// before the table reaches the module (which publishes them to any thread
// it starts later).
var (
	shimCallTarget uintptr //nolint:unused // read by the assembly: the callback of workerCall
	shimLogTarget  uintptr //nolint:unused // read by the assembly: the callback of workerLog
	shimLost       uintptr //nolint:unused // read by the assembly: address of the region's hLogsLost
)

// shimEntries returns the addresses of the two C entry points.
func shimEntries() (call, log uintptr)

// hostEntries returns the function pointers for the worker's host table:
// entries that answer a thread the Go runtime did not start (-6 for a
// call, a lost record for a log) and pass every other call on to the
// callbacks log and call. lost is the counter of lost records. Where the
// entries cannot find the runtime's thread-local g (shimUsable), it
// returns the callbacks themselves.
func hostEntries(log, call uintptr, lost *uint64) (logPtr, callPtr uintptr) {
	if !shimUsable() {
		return log, call
	}
	shimCallTarget, shimLogTarget = call, log
	shimLost = uintptr(unsafe.Pointer(lost))
	c, l := shimEntries()
	return l, c
}
