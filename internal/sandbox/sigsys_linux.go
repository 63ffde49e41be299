//go:build amd64 || arm64

package sandbox

import (
	"strconv"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The filter answers a forbidden system call with SECCOMP_RET_TRAP: the
// kernel skips the call and sends the thread that made it a SIGSYS whose
// siginfo holds the call's number (si_syscall) and architecture token
// (si_arch). The worker catches that SIGSYS with sigsysHandler, written in
// assembly because it runs on whatever thread made the call, a Go thread
// or one the module started, with no Go runtime state to rely on. The
// handler stores the number and token in a word the host can read after
// the worker's death (a cell of the shared region) and then kills the
// worker with SIGSYS, as SECCOMP_RET_KILL_PROCESS would: it is installed
// with SA_RESETHAND, so SIGSYS has its default action again when the
// handler sends it to its own thread, and SA_NODEFER, so that it is not
// blocked while the handler runs.
//
// A module that installs a SIGSYS handler of its own survives the trap;
// the call was still not made. One that blocks SIGSYS does not keep the
// kernel from delivering it (a forced signal is unblocked and gets its
// default action), but the worker then dies without a record.

// sigsysCell is the address of the 8-byte word the handler writes: the
// architecture token in the low half, the system call number in the high
// half; 0 for none. The handler reads it with a plain load.
var sigsysCell uintptr

// sigsysHandler is the handler; see the assembly. Only its address is
// used (sigsysHandlerPC).
func sigsysHandler() //nolint:unused // referenced from assembly only (sigsysHandlerPC)

// sigsysRestorer returns from a signal handler (rt_sigreturn); x86-64
// wants one with every handler, although sigsysHandler never returns.
func sigsysRestorer() //nolint:unused // referenced from assembly only (sigsysRestorerPC)

// sigsysHandlerPC and sigsysRestorerPC return the functions' entry
// addresses.
func sigsysHandlerPC() uintptr
func sigsysRestorerPC() uintptr

// Flags of the kernel's struct sigaction.
const (
	saSiginfo   = 0x4
	saRestorer  = 0x04000000
	saOnstack   = 0x08000000 // Go threads have a signal stack; others run the handler where they are
	saNodefer   = 0x40000000
	saResethand = 0x80000000
)

// kernelSigaction is the kernel's struct sigaction on linux/amd64 and
// linux/arm64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// CatchForbidden installs the SIGSYS handler that records a forbidden
// system call in cell (8 bytes, 8-aligned, in memory the host reads after
// the worker ends) before the worker dies of it. Call it in a sandboxed
// worker after its crash signals were given their default action (the Go
// runtime's own SIGSYS handler would print a trace and exit with status
// 2) and before the module loads. The Go runtime does not reinstall a
// handler it did not install unless os/signal is asked to handle SIGSYS,
// which the worker never does.
func CatchForbidden(cell *[8]byte) error {
	if uintptr(unsafe.Pointer(cell))%8 != 0 {
		panic("sandbox: misaligned SIGSYS cell")
	}
	atomic.StoreUintptr(&sigsysCell, uintptr(unsafe.Pointer(cell)))
	act := kernelSigaction{
		handler:  sigsysHandlerPC(),
		flags:    saSiginfo | saRestorer | saOnstack | saNodefer | saResethand,
		restorer: sigsysRestorerPC(),
	}
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGSYS), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// Forbidden decodes a cell CatchForbidden's handler wrote: the name of the
// system call ("ptrace", or "system call 321" for one without a name
// here), and false when the cell holds nothing this architecture made.
func Forbidden(cell uint64) (string, bool) {
	if uint32(cell) != auditArch {
		return "", false
	}
	nr := uintptr(cell >> 32)
	for _, k := range killed {
		if k.nr == nr {
			return k.name, true
		}
	}
	return "system call " + strconv.FormatUint(uint64(nr), 10), true
}
