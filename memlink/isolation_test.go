package memlink_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// loadIsolated loads module name (a private copy) with iso into rt.
func loadIsolated(t testing.TB, rt *memlink.Runtime, name string, iso memlink.Isolation, opts ...memlink.LoadOption) memlink.Handle {
	t.Helper()
	opts = append([]memlink.LoadOption{memlink.WithIsolation(iso)}, opts...)
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, name)), opts...)
	skipWithoutExec(t, err)
	if err != nil {
		t.Fatalf("Load(%s, isolated): %v", name, err)
	}
	return h
}

// skipWithoutExec skips the test when err says this process cannot
// execute its own program, as under qemu-user without binfmt_misc: no
// worker (and no child test process) can be started there.
func skipWithoutExec(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot start a child process from this program here: %v", err)
	}
}

func newRuntime(t testing.TB, opts ...memlink.Option) *memlink.Runtime {
	t.Helper()
	rt := memlink.New(opts...)
	t.Cleanup(func() { rt.Close() })
	return rt
}

// crashOf checks that err is a *CrashError of reason with want in its
// message, and returns it.
func crashOf(t *testing.T, err error, reason, want string) *memlink.CrashError {
	t.Helper()
	var ce *memlink.CrashError
	if !errors.As(err, &ce) || !errors.Is(err, memlink.ErrModuleCrashed) {
		t.Fatalf("err = %v, want a *CrashError", err)
	}
	if ce.Reason != reason || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v (reason %q), want reason %q and %q", err, ce.Reason, reason, want)
	}
	return ce
}

func TestIsolatedCallsLikeInProcess(t *testing.T) {
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "echo", memlink.Isolation{})
	if got := call(t, rt, h, "process", "input data"); got != "input data" {
		t.Fatalf("echo = %q", got)
	}
	call(t, rt, h, "process", "a much longer input than before")
	if got := call(t, rt, h, "process", "short"); got != "short" {
		t.Fatalf("echo after a longer call = %q", got)
	}
	dst := make([]byte, 0, 64)
	out, err := rt.CallAppend(dst, h, "process", []byte("abc"))
	if err != nil || string(out) != "abc" || &out[0] != &dst[:1][0] {
		t.Fatalf("CallAppend = %q, %v (reused dst: %v)", out, err, len(out) > 0 && &out[0] == &dst[:1][0])
	}

	// Module errors are the same typed errors.
	he := loadIsolated(t, rt, "errors", memlink.Isolation{})
	_, err = rt.Call(he, "panic", nil)
	var ce *memlink.CallError
	if !errors.As(err, &ce) || ce.Code != -5 || !errors.Is(err, memlink.ErrModulePanicked) || ce.Module != "errors"+ext(t) {
		t.Fatalf("panic: %v", err)
	}
	if _, err := rt.Call(he, "nope", nil); !errors.Is(err, memlink.ErrUnknownMethod) {
		t.Fatalf("unknown method: %v", err)
	}

	// ABI 2: binary output, large outputs, the output limit, a lying module.
	hb := loadIsolated(t, rt, "binary", memlink.Isolation{})
	in := []byte{0, 1, 2, 0, 3}
	if out, err := rt.Call(hb, "echo", in); err != nil || !bytes.Equal(out, in) {
		t.Fatalf("binary echo = %v, %v", out, err)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], 3<<20)
	out, err = rt.Call(hb, "repeat", n[:])
	if i := 12345; err != nil || len(out) != 3<<20 || out[i] != byte(i*31+7) {
		t.Fatalf("repeat 3 MiB: %d bytes, %v", len(out), err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 100000) // 1.6 MB of args
	if out, err := rt.Call(hb, "echo", big); err != nil || !bytes.Equal(out, big) {
		t.Fatalf("echo of 1.6 MB: %d bytes, %v", len(out), err)
	}
	if _, err := rt.Call(hb, "liar", nil); !errors.Is(err, memlink.ErrModuleCorrupted) {
		t.Fatalf("liar: %v", err)
	}
	if _, err := rt.Call(hb, "echo", in); !errors.Is(err, memlink.ErrModuleCorrupted) {
		t.Fatalf("after a lie the module must stay quarantined: %v", err)
	}

	rt2 := newRuntime(t, memlink.WithMaxOutput(1<<20))
	hb2 := loadIsolated(t, rt2, "binary", memlink.Isolation{})
	if _, err := rt2.Call(hb2, "repeat", n[:]); !errors.Is(err, memlink.ErrOutputTooLarge) {
		t.Fatalf("repeat over WithMaxOutput: %v", err)
	}

	ho := loadIsolated(t, rt, "overflow", memlink.Isolation{})
	if _, err := rt.Call(ho, "x", nil); !errors.Is(err, memlink.ErrModuleCorrupted) {
		t.Fatalf("overflow: %v", err)
	}

	u, ok := rt.Usage(h)
	if !ok || u.Calls != 4 || u.Generation != 1 || u.ArenaBytes <= 0 {
		t.Fatalf("usage = %+v", u)
	}
	for _, m := range rt.Stats().Modules {
		if len(m.WorkerRestarts) != len(memlink.WorkerRestartReasons()) || m.ArenaBytes <= 0 {
			t.Fatalf("stats of %s: %+v", m.Name, m)
		}
	}
	if err := rt.Unload(h); err != nil {
		t.Fatalf("Unload: %v", err)
	}
	if _, err := rt.Call(h, "process", nil); !errors.Is(err, memlink.ErrUnknownHandle) {
		t.Fatalf("call after Unload: %v", err)
	}
}

func ext(t *testing.T) string {
	p := modtest.Path(t, "echo")
	return p[strings.LastIndexByte(p, '.'):]
}

func TestIsolatedLoadErrors(t *testing.T) {
	rt := newRuntime(t)
	loadIsolated(t, rt, "echo", memlink.Isolation{}) // skips where no worker can start
	for _, c := range []struct {
		module string
		want   error
		text   string
	}{
		{"initfail", memlink.ErrInitFailed, "returned 42"},
		{"missing", memlink.ErrMissingSymbol, "memlink_call"},
		{"abi99", memlink.ErrABIVersion, "99"},
	} {
		_, err := rt.Load(memlink.MustParseRef(modtest.Path(t, c.module)), memlink.WithIsolation(memlink.Isolation{}))
		var le *memlink.LoadError
		if !errors.As(err, &le) || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v", c.module, err)
		}
		if strings.Contains(err.Error(), "/proc/self/fd") {
			t.Errorf("%s: error %q names the private copy instead of the file the user gave", c.module, err)
		}
	}
	_, err := rt.Load(memlink.MustParseRef("/nonexistent/x.so"), memlink.WithIsolation(memlink.Isolation{}))
	if !errors.Is(err, memlink.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	if n := rt.Stats().LoadErrors["init_failed"]; n != 1 {
		t.Errorf("init_failed load errors = %d", n)
	}
}

// TestCrashingModules runs every way fault.c fails, each in its own
// module, next to healthy modules in process and isolated.
func TestCrashingModules(t *testing.T) {
	rt := newRuntime(t)
	local, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")))
	if err != nil {
		t.Fatal(err)
	}
	remote := loadIsolated(t, rt, "string", memlink.Isolation{})
	cases := []struct {
		module string
		iso    memlink.Isolation
		check  func(t *testing.T, err error)
	}{
		{"segv", memlink.Isolation{}, func(t *testing.T, err error) {
			ce := crashOf(t, err, "crash", "module segv"+ext(t)+" crashed: "+segvName)
			if ce.Signal != segvSignal || ce.ExitCode != segvCode || ce.Method != "process" || ce.Pid <= 0 {
				t.Errorf("crash error %+v", ce)
			}
		}},
		{"abort", memlink.Isolation{}, func(t *testing.T, err error) { crashOf(t, err, "crash", "crashed: "+abortName) }},
		{"exit", memlink.Isolation{}, func(t *testing.T, err error) {
			if ce := crashOf(t, err, "crash", "crashed: exit status 3"); ce.ExitCode != 3 || ce.Signal != "" {
				t.Errorf("crash error %+v", ce)
			}
		}},
		{"loop", memlink.Isolation{CallTimeout: 300 * time.Millisecond}, func(t *testing.T, err error) {
			if !errors.Is(err, memlink.ErrCallTimeout) || !strings.Contains(err.Error(), "300ms") {
				t.Fatalf("loop: %v", err)
			}
		}},
		{"bomb", memlink.Isolation{MemoryLimit: 64 << 20}, func(t *testing.T, err error) {
			crashOf(t, err, "memory", "memory limit of 64 MiB reached")
		}},
	}
	for _, c := range cases {
		t.Run(c.module, func(t *testing.T) {
			if c.iso.MemoryLimit > 0 {
				skipNoMemoryLimit(t) // before the bomb, which would run unbounded
			}
			h := loadIsolated(t, rt, c.module, c.iso)
			_, err := rt.Call(h, "process", []byte("boom"))
			c.check(t, err)
			// The host goes on, and so do the other modules.
			if got := call(t, rt, local, "process", "still here"); got != "still here" {
				t.Fatalf("in-process module after the crash: %q", got)
			}
			if got := call(t, rt, remote, "process", "up"); got != "UP" {
				t.Fatalf("other isolated module after the crash: %q", got)
			}
			// The next call on the crashed handle runs in a new worker.
			if got := call(t, rt, h, "echo", "again"); got != "again" {
				t.Fatalf("after the crash: %q", got)
			}
			var restarts uint64
			for _, m := range rt.Stats().Modules {
				if m.Handle == h {
					for _, n := range m.WorkerRestarts {
						restarts += n
					}
				}
			}
			if restarts != 1 {
				t.Errorf("WorkerRestarts sum = %d, want 1", restarts)
			}
			if err := rt.Unload(h); err != nil {
				t.Errorf("Unload: %v", err)
			}
		})
	}
}

// TestCrashHammer: 8 goroutines call an isolated module; 1 call in 1,000
// crashes its worker. Every call that does not crash must succeed, except
// calls the worker had already begun when it crashed: those fail with
// ErrModuleCrashed (requests it had not yet taken are re-run on the next
// worker). Each goroutine has one call in flight, so a crash takes at most
// 7 other calls with it, all from the worker that crashed.
func TestCrashHammer(t *testing.T) {
	const goroutines, perG, every = 8, 1000, 1000
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "crashy", memlink.Isolation{Slots: goroutines})
	type failure struct {
		g, i int
		err  error
	}
	var mu sync.Mutex
	var crashes, collateral []failure
	var wg sync.WaitGroup
	begin := time.Now()
	for g := range goroutines {
		wg.Go(func() {
			crashAt := (g*every/goroutines + every/16) % every
			for i := range perG {
				args := []byte(fmt.Sprintf("g%d-%d", g, i))
				method := "echo"
				if i%every == crashAt {
					method = "segv"
				}
				out, err := rt.Call(h, method, args)
				switch {
				case method == "segv":
					mu.Lock()
					crashes = append(crashes, failure{g, i, err})
					mu.Unlock()
				case err != nil:
					mu.Lock()
					collateral = append(collateral, failure{g, i, err})
					mu.Unlock()
				case !bytes.Equal(out, args):
					t.Errorf("call %s = %q", args, out)
				}
			}
		})
	}
	wg.Wait()
	pids := map[int]int{} // crashed worker -> collateral failures
	for _, c := range crashes {
		ce := crashOf(t, c.err, "crash", segvName)
		if _, dup := pids[ce.Pid]; dup {
			t.Errorf("two crashing calls in worker %d", ce.Pid)
		}
		pids[ce.Pid] = 0
	}
	for _, c := range collateral {
		ce := crashOf(t, c.err, "crash", segvName)
		if _, ok := pids[ce.Pid]; !ok {
			t.Errorf("call g%d-%d failed in worker %d, where no crashing call ran: %v", c.g, c.i, ce.Pid, c.err)
		}
		pids[ce.Pid]++
	}
	for pid, n := range pids {
		if n > goroutines-1 {
			t.Errorf("worker %d took %d other calls with it; at most %d were in flight", pid, n, goroutines-1)
		}
	}
	want := goroutines * perG / every
	if len(crashes) != want || len(pids) != want {
		t.Errorf("%d crashing calls in %d workers, want %d", len(crashes), len(pids), want)
	}
	st := rt.Stats().Modules[0]
	if st.WorkerRestarts["crash"] != uint64(want) || st.Calls != goroutines*perG {
		t.Errorf("stats: restarts %v, calls %d", st.WorkerRestarts, st.Calls)
	}
	t.Logf("%d calls in %v: %d crashes, %d calls failed with them (%d succeeded)",
		goroutines*perG, time.Since(begin).Round(time.Millisecond), len(crashes), len(collateral),
		goroutines*perG-len(crashes)-len(collateral))
}

func TestIsolatedReload(t *testing.T) {
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "version_v1", memlink.Isolation{})
	if got := call(t, rt, h, "version", ""); got != "v1" {
		t.Fatal(got)
	}
	rep := reload(t, rt, h, modtest.Path(t, "version_v2"), hotreload.Config{})
	if got := call(t, rt, h, "version", ""); got != "v2" || rep.Generation != 2 {
		t.Fatalf("after reload: %q, %+v", got, rep)
	}
	u, _ := rt.Usage(h)
	if u.Generation != 2 || u.Reloads["ok"] != 1 || u.Calls != 2 {
		t.Fatalf("usage = %+v", u)
	}
	if m := rt.Stats().Modules[0]; m.WorkerRestarts == nil {
		t.Fatal("the reloaded version is not isolated")
	}

	// Stateful: the counter's state crosses two process boundaries.
	hc := loadIsolated(t, rt, "counter", memlink.Isolation{}, memlink.WithConfig([]byte("40")))
	call(t, rt, hc, "increment", "")
	rep = reload(t, rt, hc, modtest.Path(t, "counter"), hotreload.Config{PreserveState: true})
	if got := call(t, rt, hc, "get", ""); got != "41" || rep.StateBytes != 8 {
		t.Fatalf("after a stateful reload: %q, %+v", got, rep)
	}
	// A failing restore rolls back to the old worker, which keeps serving.
	_, err := rt.Reload(hc, memlink.MustParseRef(modtest.Path(t, "counter_badrestore")), hotreload.Config{PreserveState: true})
	if !errors.Is(err, hotreload.ErrStateTransfer) {
		t.Fatalf("bad restore: %v", err)
	}
	if got := call(t, rt, hc, "increment", ""); got != "42" {
		t.Fatalf("after the rollback: %q", got)
	}
	// Stateless modules cannot do a stateful reload.
	_, err = rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "version_v1")), hotreload.Config{PreserveState: true})
	if !errors.Is(err, hotreload.ErrStateUnsupported) {
		t.Fatalf("stateful reload of a stateless module: %v", err)
	}
}

func TestIsolatedRestartsSurviveReload(t *testing.T) {
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "crashy", memlink.Isolation{})
	if _, err := rt.Call(h, "abort", nil); !errors.Is(err, memlink.ErrModuleCrashed) {
		t.Fatal(err)
	}
	reload(t, rt, h, modtest.Path(t, "crashy"), hotreload.Config{})
	if n := rt.Stats().Modules[0].WorkerRestarts["crash"]; n != 1 {
		t.Fatalf("crash restarts after a reload = %d", n)
	}
}

func TestRestartNever(t *testing.T) {
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "crashy", memlink.Isolation{Restart: memlink.RestartNever})
	_, err := rt.Call(h, "segv", nil)
	crashOf(t, err, "crash", segvName)
	for range 3 {
		_, err = rt.Call(h, "echo", []byte("x"))
		crashOf(t, err, "crash", "RestartNever")
	}
	// A reload brings it back.
	reload(t, rt, h, modtest.Path(t, "crashy"), hotreload.Config{})
	if got := call(t, rt, h, "echo", "back"); got != "back" {
		t.Fatal(got)
	}
}

func TestCallContext(t *testing.T) {
	rt := newRuntime(t)
	local, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")))
	if err != nil {
		t.Fatal(err)
	}
	remote := loadIsolated(t, rt, "crashy", memlink.Isolation{})
	for _, h := range []memlink.Handle{local, remote} {
		out, err := rt.CallContext(context.Background(), h, "echo", []byte("ctx"))
		if err != nil || string(out) != "ctx" {
			t.Fatalf("CallContext = %q, %v", out, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := rt.CallContext(ctx, h, "echo", []byte("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("CallContext with a cancelled context: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err = rt.CallContext(ctx, remote, "loop", nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "worker was killed") {
		t.Fatalf("endless call with a deadline: %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("the deadline took %v to end the call", d)
	}
	if got := call(t, rt, remote, "echo", "alive"); got != "alive" {
		t.Fatal(got)
	}
	if n := rt.Stats().Modules[1].WorkerRestarts["timeout"]; n != 1 {
		t.Fatalf("timeout restarts = %d", n)
	}
}

// TestTimeoutFailsOtherCalls: a call that times out kills the worker, and
// calls running beside it fail with ErrModuleCrashed saying so.
func TestTimeoutFailsOtherCalls(t *testing.T) {
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "sleep", memlink.Isolation{CallTimeout: 300 * time.Millisecond})
	errs := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, err := rt.Call(h, "sleep", []byte("1000"))
		errs <- err
	}()
	if _, err := rt.Call(h, "sleep", []byte("5000")); !errors.Is(err, memlink.ErrCallTimeout) {
		t.Fatalf("long call: %v", err)
	}
	crashOf(t, <-errs, "timeout", "killed after timeout")
	if got := call(t, rt, h, "echo", "next"); got != "next" {
		t.Fatal(got)
	}
}

// workerGone waits until process pid no longer exists (not even as a
// zombie).
func workerGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for processExists(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d still exists", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// childPids lists the processes whose parent is this one, in ascending
// order (Linux: the kernel lists children per thread that forked them).
func childPids(t *testing.T) []int {
	t.Helper()
	if runtime.GOOS == "windows" {
		// Under Wine /proc would even be the Linux host's.
		t.Skip("lists child processes from /proc (Linux)")
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Skip("no /proc")
	}
	var pids []int
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			if os.IsNotExist(err) {
				continue // the thread exited
			}
			t.Skip("no /proc children lists")
		}
		for _, f := range strings.Fields(string(b)) {
			p, _ := strconv.Atoi(f)
			pids = append(pids, p)
		}
	}
	slices.Sort(pids)
	return pids
}

func TestUnloadKillsHungWorkerAfterDrainTimeout(t *testing.T) {
	rt := newRuntime(t, memlink.WithDrainTimeout(200*time.Millisecond))
	old := childPids(t)
	before := len(old)
	h := loadIsolated(t, rt, "crashy", memlink.Isolation{})
	pids := slices.DeleteFunc(childPids(t), func(p int) bool { return slices.Contains(old, p) })
	if len(pids) != 1 {
		t.Fatalf("new children %v, want one", pids)
	}
	errs := make(chan error, 1)
	go func() {
		_, err := rt.Call(h, "loop", nil)
		errs <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := rt.Unload(h); !errors.Is(err, memlink.ErrDrainTimeout) {
		t.Fatalf("Unload with a hung call: %v", err)
	}
	crashOf(t, <-errs, "shutdown", "unloaded")
	workerGone(t, pids[0])
	if n := len(childPids(t)); n != before {
		t.Fatalf("%d child processes left, want %d", n, before)
	}
}

func TestCloseStopsWorkers(t *testing.T) {
	rt := memlink.New(memlink.WithDrainTimeout(200 * time.Millisecond))
	before := len(childPids(t))
	loadIsolated(t, rt, "echo", memlink.Isolation{})
	h := loadIsolated(t, rt, "crashy", memlink.Isolation{})
	go rt.Call(h, "loop", nil)
	time.Sleep(50 * time.Millisecond)
	if err := rt.Close(); !errors.Is(err, memlink.ErrDrainTimeout) {
		t.Fatalf("Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(childPids(t)) != before {
		if time.Now().After(deadline) {
			t.Fatalf("children left after Close: %v", childPids(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIsolatedLoadInPlace(t *testing.T) {
	rt := newRuntime(t)
	h := loadIsolated(t, rt, "echo", memlink.Isolation{}, memlink.LoadInPlace())
	if got := call(t, rt, h, "process", "in place"); got != "in place" {
		t.Fatal(got)
	}
	// Before the test's directory is removed: on Windows a loaded DLL
	// cannot be deleted, and the worker loaded it in place.
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
}
