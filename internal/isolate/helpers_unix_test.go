//go:build unix

package isolate

import (
	"errors"
	"syscall"
	"testing"
)

// What a null store and abort() in a module read as here.
const (
	segvName  = "SIGSEGV"
	abortName = "SIGABRT"
)

// processExists returns nil when process pid no longer exists (not even
// as a zombie), else what shows it does.
func processExists(pid int) error {
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		return errors.New("kill(0) = " + errString(err))
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// skipUnenforcedMemoryLimit skips nothing here: where MemoryLimitEnforced
// says so, the limit holds.
func skipUnenforcedMemoryLimit(t *testing.T) {}
