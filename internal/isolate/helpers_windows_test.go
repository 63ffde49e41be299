package isolate

import (
	"fmt"
	"testing"

	"golang.org/x/sys/windows"
)

// What a null store and abort() in a module read as here: the access
// violation with its code, and the C runtime's exit status 3.
const (
	segvName  = "EXCEPTION_ACCESS_VIOLATION (0xC0000005)"
	abortName = "exit status 3"
)

// processExists returns nil when process pid has ended, else what shows
// it has not.
func processExists(pid int) error {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return nil // no such process
	}
	defer windows.CloseHandle(h)
	if ev, _ := windows.WaitForSingleObject(h, 0); ev != windows.WAIT_OBJECT_0 {
		return fmt.Errorf("process %d is still running", pid)
	}
	return nil
}

// underWine reports whether this program runs under Wine, which exports
// wine_get_version from its ntdll.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// skipUnenforcedMemoryLimit skips a test that needs a memory limit to
// hold under Wine, which accepts JOB_OBJECT_LIMIT_PROCESS_MEMORY but does
// not enforce it (.ci/test-windows.sh lists this difference).
func skipUnenforcedMemoryLimit(t *testing.T) {
	if underWine() {
		t.Skip("Wine does not enforce JOB_OBJECT_LIMIT_PROCESS_MEMORY")
	}
}
