package isolate

import (
	"unsafe"

	"github.com/ebitengine/purego"
	"golang.org/x/sys/unix"
)

// fatalSignals are the signals a crash in native code raises.
var fatalSignals = []unix.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGABRT, unix.SIGTRAP, unix.SIGSYS}

// resetFatalSignals gives the crash signals back their default action
// through libc's sigaction, for the reasons given in signals_linux.go. A
// zeroed struct sigaction is SIG_DFL with no flags and an empty mask.
func resetFatalSignals() {
	libc, err := purego.Dlopen("/usr/lib/libSystem.B.dylib", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return
	}
	sigaction, err := purego.Dlsym(libc, "sigaction")
	if err != nil {
		return
	}
	var act [4]uint64
	for _, s := range fatalSignals {
		purego.SyscallN(sigaction, uintptr(s), uintptr(unsafe.Pointer(&act)), 0)
	}
}
