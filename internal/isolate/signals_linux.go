package isolate

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fatalSignals are the signals a crash in native code raises.
var fatalSignals = []unix.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGABRT, unix.SIGTRAP, unix.SIGSYS}

// resetFatalSignals gives the crash signals back their default action, so
// that a fault in the module kills the worker with that very signal and
// the host can name it. Otherwise the Go runtime catches a fault in C code,
// prints "signal arrived during cgo execution" and exits with status 2,
// which says nothing about what happened. The price: a nil dereference in
// the worker's own Go code also kills it with SIGSEGV instead of
// panicking, which is as fatal either way.
//
// The kernel's struct sigaction is all zeros for SIG_DFL with no flags and
// an empty mask, whatever its layout; 32 bytes cover it on every
// architecture, and the last argument is the size of the kernel's sigset.
func resetFatalSignals() {
	var act [4]uint64
	for _, s := range fatalSignals {
		// Cannot fail for these signals and a valid struct; if it did,
		// the worker would only report crashes less precisely.
		_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(s), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	}
}
