//go:build unix

package memlink_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// What a null store and abort() in an isolated module read as here.
const (
	segvName   = "SIGSEGV"
	segvSignal = "SIGSEGV"
	segvCode   = -1
	abortName  = "SIGABRT"
)

// processExists reports whether process pid exists (a zombie included).
func processExists(pid int) bool { return syscall.Kill(pid, 0) == nil }

// skipNoMemoryLimit skips a test of Isolation.MemoryLimit where it is not
// enforced.
func skipNoMemoryLimit(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("MemoryLimit is enforced on Linux and Windows only")
	}
}

// TestHelperInProcessCrash is not a test on its own: TestInProcessCrashIsFatal
// runs it in a child process to crash it.
func TestHelperInProcessCrash(t *testing.T) {
	path := os.Getenv("MEMLINK_TEST_CRASH_MODULE")
	if path == "" {
		t.Skip("run by TestInProcessCrashIsFatal")
	}
	rt := memlink.New()
	h, err := rt.Load(memlink.MustParseRef(path))
	if err != nil {
		t.Fatal(err)
	}
	rt.Call(h, "process", nil)
	t.Fatal("the process survived a segmentation fault in a module")
}

// TestInProcessCrashIsFatal shows what isolation is for: the same module
// loaded in process takes the whole process down. The Go runtime catches
// the SIGSEGV raised in C code, prints "SIGSEGV: segmentation violation"
// and "signal arrived during cgo execution", and exits with status 2 (a
// worker restores the default action instead, so that it dies of the
// signal itself and the host can name it).
func TestInProcessCrashIsFatal(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperInProcessCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MEMLINK_TEST_CRASH_MODULE="+modtest.Path(t, "segv"))
	out, err := cmd.CombinedOutput()
	skipWithoutExec(t, err)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the child survived: %v\n%s", err, out)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	t.Logf("child: %v", ws)
	bySignal := ws.Signaled() && ws.Signal() == syscall.SIGSEGV
	byRuntime := ws.Exited() && ws.ExitStatus() == 2 &&
		bytes.Contains(out, []byte("SIGSEGV: segmentation violation")) && bytes.Contains(out, []byte("signal arrived during cgo execution"))
	if !bySignal && !byRuntime {
		t.Fatalf("child ended with %v, want death by SIGSEGV:\n%s", ws, out)
	}
}
