//go:build amd64 || arm64

package sandbox

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const envSigsysChild = "MEMLINK_SANDBOX_TEST_SIGSYS_CELL"

// TestCatchForbiddenHandler runs the SIGSYS handler without seccomp (so
// also under qemu-user, which emulates no filter): a child process
// installs it with its cell in a shared file mapping, sends itself the
// SIGSYS a trapped ptrace would raise, and must die of SIGSYS with the
// call recorded in the file.
func TestCatchForbiddenHandler(t *testing.T) {
	if path := os.Getenv(envSigsysChild); path != "" {
		sigsysChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "cell")
	if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCatchForbiddenHandler$")
	cmd.Env = append(os.Environ(), envSigsysChild+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if err != nil {
			t.Skipf("cannot start the child: %v", err) // no binfmt_misc under qemu-user
		}
		t.Fatalf("the child survived: %s", out)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Fatalf("child ended with %v, want SIGSYS: %s", ee, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if name, ok := Forbidden(binary.LittleEndian.Uint64(b)); !ok || name != "ptrace" {
		t.Fatalf("cell %#x = %q, %v; want ptrace", binary.LittleEndian.Uint64(b), name, ok)
	}
}

// sigsysChild is the child: it never returns.
func sigsysChild(path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		os.Exit(10)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		os.Exit(11)
	}
	if err := CatchForbidden((*[8]byte)(mem[:8])); err != nil {
		os.Exit(12)
	}
	// The siginfo of a trapped system call: si_signo, si_code
	// SYS_SECCOMP (1), si_syscall at 24, si_arch at 28.
	var info [128]byte
	le := binary.LittleEndian
	le.PutUint32(info[0:], uint32(unix.SIGSYS))
	le.PutUint32(info[8:], 1)
	le.PutUint32(info[24:], uint32(unix.SYS_PTRACE))
	le.PutUint32(info[28:], auditArch)
	runtime.LockOSThread()
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_TGSIGQUEUEINFO, uintptr(unix.Getpid()), uintptr(unix.Gettid()), uintptr(unix.SIGSYS), uintptr(unsafe.Pointer(&info[0])), 0, 0)
	if errno != 0 {
		os.Exit(13)
	}
	time.Sleep(5 * time.Second)
	os.Exit(14)
}
