package isolate

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// Naming the exception a module dies of. The Go runtime of the worker
// catches every exception first: one raised in module code is not its
// own, so it prints it with a traceback and exits with status 2, which
// says nothing about what happened. So the worker puts a vectored
// exception handler of its own in front of the runtime's (vehHandler, in
// assembly: it runs on the faulting thread, whatever that thread is and
// however little stack it has left, so it calls nothing and touches
// nothing but the shared region). It only records the code and address of
// an error-severity exception raised outside this program's image in the
// region's header (hFault, hFaultAddr) and lets the search go on, so a
// module's own structured exception handlers still see and may handle
// their exceptions; only a stack overflow, after which nothing can run on
// the thread (the runtime's report would overflow again, and under Wine
// the process then hangs), ends the process at once with its code. When
// the worker then dies with the runtime's status 2,
// the host names the recorded exception (host_windows.go).
//
// A handled exception leaves its record behind: a worker whose module
// once caught an access violation and that later exits with status 2 for
// another reason is reported as that access violation.

// Read by vehHandler, in assembly, which the linters do not see.
var (
	vehFault     uintptr //nolint:unused // address of the header's hFault word; 0 until set up
	vehLo, vehHi uintptr //nolint:unused // this program's image: its exceptions are the runtime's
	vehTerminate uintptr //nolint:unused // TerminateProcess

	procAddVectoredH = windows.NewLazySystemDLL("kernel32.dll").NewProc("AddVectoredExceptionHandler")
)

// watchFaults installs the handler, recording into the header of mem.
// Without a handler (an architecture without one, or a failure) crashes
// read as the runtime's exit status 2.
func watchFaults(mem []byte) {
	handler := vehAddr()
	if handler == 0 {
		return
	}
	var mi windows.ModuleInfo
	var self windows.Handle
	// Flag 1, GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT: nothing to free.
	if windows.GetModuleHandleEx(1, nil, &self) != nil || windows.GetModuleInformation(windows.CurrentProcess(), self, &mi, uint32(unsafe.Sizeof(mi))) != nil {
		return
	}
	vehLo, vehHi = mi.BaseOfDll, mi.BaseOfDll+uintptr(mi.SizeOfImage)
	if p := windows.NewLazySystemDLL("kernel32.dll").NewProc("TerminateProcess"); p.Find() == nil {
		vehTerminate = p.Addr()
	}
	vehFault = uintptr(unsafe.Pointer(&mem[hFault]))
	// First in line (1): before the runtime's handler, which would crash
	// the process instead of passing the exception on.
	_, _, _ = procAddVectoredH.Call(1, handler)
}
