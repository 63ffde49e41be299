package isolate

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/memlink/memlink-go/abi"
)

// TestWindowsExceptions: each exception a module raises ends its worker
// with that exception named, with its code, and the next call runs in a
// new worker.
func TestWindowsExceptions(t *testing.T) {
	c := start(t, "crashy", Config{Restart: true})
	for _, cs := range []struct {
		method, name string
		code         uint32
	}{
		{"segv", "EXCEPTION_ACCESS_VIOLATION", 0xC0000005},
		{"stack", "EXCEPTION_STACK_OVERFLOW", 0xC00000FD},
		{"ill", "EXCEPTION_ILLEGAL_INSTRUCTION", 0xC000001D},
	} {
		t.Run(cs.method, func(t *testing.T) {
			_, _, err := c.Call(context.Background(), nil, abi.MethodID(cs.method), nil)
			f := mustLose(t, err, ReasonCrash, cs.name)
			if f.Exit.Signal != cs.name || uint32(f.Exit.Status) != cs.code {
				t.Errorf("exit %+v, want %s (%#x)", f.Exit, cs.name, cs.code)
			}
			if want := cs.name + " (" + statusHex(int(cs.code)) + ")"; f.Exit.String() != want {
				t.Errorf("%q, want %q", f.Exit.String(), want)
			}
			if got := call(t, c, "echo", "alive"); got != "alive" {
				t.Fatalf("after the crash: %q", got)
			}
		})
	}
}

// TestTerminatedFromOutside: a worker another process terminates fails the
// call it ran with its exit code, and is replaced.
func TestTerminatedFromOutside(t *testing.T) {
	c := start(t, "crashy", Config{Restart: true})
	pid := c.Pid()
	go func() {
		time.Sleep(100 * time.Millisecond)
		h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, uint32(pid))
		if err != nil {
			t.Errorf("OpenProcess: %v", err)
			return
		}
		defer windows.CloseHandle(h)
		if err := windows.TerminateProcess(h, 0xDEAD); err != nil {
			t.Errorf("TerminateProcess: %v", err)
		}
	}()
	_, _, err := c.Call(context.Background(), nil, abi.MethodID("loop"), nil)
	f := mustLose(t, err, ReasonCrash, "exit status 57005")
	if f.Exit.Pid != pid || f.Killed {
		t.Errorf("exit %+v (killed by the host: %v)", f.Exit, f.Killed)
	}
	if got := call(t, c, "echo", "back"); got != "back" || c.Pid() == pid {
		t.Fatalf("after the termination: %q in worker %d", got, c.Pid())
	}
}

// gone waits up to 10s for process pid to end.
func gone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for processExists(pid) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d outlived its worker", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestJobKillsModuleProcesses: a process the module started dies with its
// worker, whether the worker crashed or was shut down.
func TestJobKillsModuleProcesses(t *testing.T) {
	c := start(t, "crashy", Config{Restart: true})
	spawn := func() int {
		out := call(t, c, "spawn", "")
		pid, err := strconv.Atoi(out)
		if err != nil || pid <= 0 {
			t.Fatalf("spawn = %q", out)
		}
		if processExists(pid) == nil {
			t.Fatalf("the module's process %d is not running", pid)
		}
		return pid
	}
	child := spawn()
	_, _, err := c.Call(context.Background(), nil, abi.MethodID("segv"), nil)
	mustLose(t, err, ReasonCrash, segvName)
	gone(t, child)

	child = spawn()
	if _, err := c.Shutdown(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	gone(t, child)
}

// TestWindowsMemoryLimit: under a 64 MiB limit the module commits 32 MiB
// but not 256 MiB (malloc fails), and its worker goes on serving.
func TestWindowsMemoryLimit(t *testing.T) {
	skipUnenforcedMemoryLimit(t)
	c := start(t, "crashy", Config{Restart: true, MemoryLimit: 64 << 20})
	if got := call(t, c, "alloc", "32"); got != "ok" {
		t.Fatalf("alloc 32 MiB: %q", got)
	}
	_, res, err := c.Call(context.Background(), nil, abi.MethodID("alloc"), []byte("256"))
	if err != nil || res.Kind != ResultCode || res.Code != 1 {
		t.Fatalf("alloc 256 MiB under a 64 MiB limit: %+v, %v", res, err)
	}
	if got := call(t, c, "echo", "still"); !strings.HasPrefix(got, "still") {
		t.Fatalf("after a refused allocation: %q", got)
	}
}
