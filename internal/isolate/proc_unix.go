//go:build unix

package isolate

import (
	"os"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

var (
	exeOnce sync.Once
	exeFile *os.File
	exeErr  error
)

// executable returns the program a worker runs, the host's own: on Linux
// an open descriptor of the running image (opened once through
// /proc/self/exe, so that it stays the image this process runs even after
// its file is replaced or deleted, as by an upgrade in place; under an
// emulator such as qemu-user that open is the guest program), to be passed
// to the child and executed through /proc/self/fd; elsewhere the path
// os.Executable reports, and no descriptor.
func executable() (path string, file *os.File, err error) {
	if runtime.GOOS != "linux" {
		path, err = os.Executable()
		return path, nil, err
	}
	exeOnce.Do(func() { exeFile, exeErr = os.Open("/proc/self/exe") })
	return "", exeFile, exeErr
}

// sysProcAttr puts the worker in a process group of its own, so that a
// terminal's Ctrl-C or Ctrl-\ reaches only the host, which decides what
// happens to its workers.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}
