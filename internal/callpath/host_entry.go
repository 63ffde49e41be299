//go:build (darwin || freebsd || linux || netbsd) && (amd64 || arm64)

package callpath

// hostCallArgs is the block hostCallEntry passes: the seven C arguments of
// the table's call, then the result the callback leaves.
type hostCallArgs struct {
	ctx, id uintptr
	args    *byte
	argsLen uintptr
	out     *byte
	outCap  uintptr
	outLen  *uintptr
	result  uintptr
}

// hostLogArgs is the block hostLogEntry passes.
type hostLogArgs struct {
	ctx, level uintptr
	msg        *byte
	n          uintptr
}

// Addresses of the assembly entries (host_entry_*.s), and the callbacks
// they call, set once before any table holds an entry.
var (
	hostCallEntryABI0, hostLogEntryABI0 uintptr
	hostCallTarget, hostLogTarget       uintptr //nolint:unused // read by the assembly
)

// newHostCallbacks creates the two callbacks behind the assembly entries
// and returns the entries.
func newHostCallbacks(log LogFunc, call CallFunc) (logPtr, callPtr uintptr) {
	hostLogTarget = newCallback(func(a *hostLogArgs) { log(a.ctx, a.level, a.msg, a.n) })
	hostCallTarget = newCallback(func(a *hostCallArgs) {
		a.result = call(a.ctx, a.id, a.args, a.argsLen, a.out, a.outCap, a.outLen)
	})
	return hostLogEntryABI0, hostCallEntryABI0
}
