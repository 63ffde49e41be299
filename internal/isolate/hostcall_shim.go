//go:build unix && amd64

package isolate

import "unsafe"

// Read by the host-table entries in hostcall_shim_amd64.s; written once,
// before the table reaches the module (which publishes them to any thread
// it starts later).
var (
	shimCallTarget uintptr // the purego callback of workerCall
	shimLogTarget  uintptr // the purego callback of workerLog
	shimLost       uintptr // address of the region's hLogsLost counter
)

// shimEntries returns the addresses of the two C entry points.
func shimEntries() (call, log uintptr)

// shimSupported reports whether the worker's host table can tell a thread
// of the module's own from one of the Go runtime before entering Go.
const shimSupported = true

// hostEntries returns the function pointers for the worker's host table:
// entries that answer a thread the Go runtime did not start (-6 for a
// call, a lost record for a log) and pass every other call on to the
// callbacks log and call. lost is the counter of lost records.
func hostEntries(log, call uintptr, lost *uint64) (logPtr, callPtr uintptr) {
	shimCallTarget, shimLogTarget = call, log
	shimLost = uintptr(unsafe.Pointer(lost))
	c, l := shimEntries()
	return l, c
}
