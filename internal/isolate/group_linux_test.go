package isolate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/modtest"
)

// running reports whether process pid exists and is not a zombie (a
// zombie holds no memory and no descriptors; its parent reaps it).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// gone waits until none of pids runs, and fails the test naming those
// that still do (and kills them, so that they do not outlive the test).
func gone(t *testing.T, what string, pids []int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []int
		for _, p := range pids {
			if running(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range left {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			t.Fatalf("%s: processes the module started still run: %v", what, left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// spawnAll has the escapee module start one process of each kind and
// returns their pids.
func spawnAll(t *testing.T, c *Client, kinds ...string) []int {
	t.Helper()
	var pids []int
	for _, k := range kinds {
		p, err := strconv.Atoi(call(t, c, k, ""))
		if err != nil || p <= 0 || !running(p) {
			t.Fatalf("%s: pid %d (%v), not running", k, p, err)
		}
		t.Cleanup(func() { _ = syscall.Kill(p, syscall.SIGKILL) })
		pids = append(pids, p)
	}
	return pids
}

// TestModuleProcessesDieWithWorker: whatever ends a worker, the processes
// its module forked end too: those left in the worker's process group
// (a child, an orphaned grandchild) always, and a daemon that called
// setsid() when the worker ends on purpose (Unload, the host's exit; see
// TestModuleProcessesDieWithHost). A daemon is not caught when the worker
// dies abruptly (a crash, a kill after a timeout): see docs/security.md.
func TestModuleProcessesDieWithWorker(t *testing.T) {
	inGroup := []string{"fork", "orphan"}
	t.Run("unload", func(t *testing.T) {
		c := start(t, "escapee", Config{})
		pids := spawnAll(t, c, "fork", "orphan", "daemon")
		if _, err := c.Shutdown(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		gone(t, "after Shutdown", pids)
	})
	t.Run("kill", func(t *testing.T) {
		c := start(t, "escapee", Config{})
		pids := spawnAll(t, c, inGroup...)
		c.Kill()
		gone(t, "after Kill", pids)
	})
	t.Run("crash", func(t *testing.T) {
		c := start(t, "escapee", Config{Restart: true})
		pids := spawnAll(t, c, inGroup...)
		// The worker dies of a signal nobody in the host sent for a
		// reason: as a crash in another thread of the module would.
		if err := syscall.Kill(c.Pid(), syscall.SIGSEGV); err != nil {
			t.Fatal(err)
		}
		gone(t, "after a crash", pids)
	})
	t.Run("timeout", func(t *testing.T) {
		c := start(t, "escapee", Config{CallTimeout: time.Second, Restart: true})
		pids := spawnAll(t, c, inGroup...)
		_, _, err := c.Call(context.Background(), nil, abi.MethodID("hang"), nil)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("hang: %v", err)
		}
		gone(t, "after a timeout", pids)
	})
}

// TestHelperHost is not a test on its own: TestModuleProcessesDieWithHost
// runs it in a child process as a host that loads the escapee module,
// prints the pids of what the module started and then exits without
// unloading anything, or waits to be killed.
func TestHelperHost(t *testing.T) {
	path := os.Getenv("MEMLINK_TEST_HOST_MODULE")
	if path == "" {
		t.Skip("run by TestModuleProcessesDieWithHost")
	}
	c, err := Start(Config{Path: path, Name: "escapee", OutputCap: 4096, MaxOutput: 1 << 20})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for _, k := range []string{"fork", "orphan", "daemon"} {
		out, res, err := c.Call(context.Background(), nil, abi.MethodID(k), nil)
		if err != nil || res.Kind != ResultOK {
			fmt.Println("error", k, err, res)
			os.Exit(1)
		}
		fmt.Println("pid", string(out))
	}
	fmt.Println("ready")
	if os.Getenv("MEMLINK_TEST_HOST_EXIT") != "" {
		os.Exit(0)
	}
	time.Sleep(time.Minute)
	os.Exit(2)
}

// TestModuleProcessesDieWithHost: when the host exits, or is killed,
// without unloading its module, the worker kills what the module started,
// daemons included, and nothing holds the host's stdout open after it.
func TestModuleProcessesDieWithHost(t *testing.T) {
	path := modtest.Path(t, "escapee")
	for _, mode := range []string{"exit", "sigkill"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHost$")
			cmd.Env = append(os.Environ(), "MEMLINK_TEST_HOST_MODULE="+path)
			if mode == "exit" {
				cmd.Env = append(cmd.Env, "MEMLINK_TEST_HOST_EXIT=1")
			}
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				skipWithoutExec(t, err)
				t.Fatal(err)
			}
			lines := make(chan string)
			eof := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(eof)
			}()
			var pids []int
			timeout := time.After(30 * time.Second)
		read:
			for {
				select {
				case l := <-lines:
					if p, ok := strings.CutPrefix(l, "pid "); ok {
						n, _ := strconv.Atoi(p)
						pids = append(pids, n)
						t.Cleanup(func() { _ = syscall.Kill(n, syscall.SIGKILL) })
					}
					if l == "ready" {
						break read
					}
					if strings.HasPrefix(l, "error") {
						t.Fatal(l)
					}
				case <-timeout:
					t.Fatal("the child host did not start its module")
				}
			}
			if len(pids) != 3 {
				t.Fatalf("pids %v", pids)
			}
			if mode == "sigkill" {
				_ = cmd.Process.Kill()
			}
			select {
			case <-eof:
			case <-time.After(10 * time.Second):
				t.Fatal("the host's stdout is still open 10s after it ended")
			}
			_ = cmd.Wait()
			gone(t, "after the host's "+mode, pids)
		})
	}
}
