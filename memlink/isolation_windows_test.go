package memlink_test

import (
	"testing"

	"golang.org/x/sys/windows"
)

// What a null store and abort() in an isolated module read as here: the
// access violation with its code, and the C runtime's exit status 3.
const (
	segvName   = "EXCEPTION_ACCESS_VIOLATION (0xC0000005)"
	segvSignal = "EXCEPTION_ACCESS_VIOLATION"
	segvCode   = 0xC0000005
	abortName  = "exit status 3"
)

// processExists reports whether process pid is still running.
func processExists(pid int) bool {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	ev, _ := windows.WaitForSingleObject(h, 0)
	return ev != windows.WAIT_OBJECT_0
}

// skipNoMemoryLimit skips a test of Isolation.MemoryLimit under Wine, which
// accepts the Job Object's JOB_OBJECT_LIMIT_PROCESS_MEMORY without
// enforcing it (.ci/test-windows.sh lists this difference).
func skipNoMemoryLimit(t *testing.T) {
	t.Helper()
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
		t.Skip("Wine does not enforce JOB_OBJECT_LIMIT_PROCESS_MEMORY")
	}
}
