package isolate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/modtest"
)

func TestMain(m *testing.M) {
	if IsWorker() {
		ServeWorker()
	}
	if os.Getenv("MEMLINK_TEST_LINGER") != "" {
		// A process a module started ("spawn"), to be killed with its
		// worker's job.
		time.Sleep(2 * time.Minute)
		os.Exit(0)
	}
	modtest.Main(m)
}

// skipWithoutExec skips the test when err says this process cannot
// execute its own program, as under qemu-user without binfmt_misc: no
// worker can be started there.
func skipWithoutExec(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot start a worker process here: %v", err)
	}
}

// start starts module name isolated with cfg and stops it at the end of
// the test.
func start(t testing.TB, name string, cfg Config) *Client {
	t.Helper()
	cfg.Path = modtest.Path(t, name)
	cfg.Name = name
	if cfg.OutputCap == 0 {
		cfg.OutputCap = 4096
	}
	if cfg.MaxOutput == 0 {
		cfg.MaxOutput = 256 << 20
	}
	c, err := Start(cfg)
	skipWithoutExec(t, err)
	if err != nil {
		t.Fatalf("Start(%s): %v", name, err)
	}
	t.Cleanup(func() { c.Shutdown(5 * time.Second) })
	return c
}

func call(t testing.TB, c *Client, method, args string) string {
	t.Helper()
	out, res, err := c.Call(context.Background(), nil, abi.MethodID(method), []byte(args))
	if err != nil {
		t.Fatalf("Call(%q): %v", method, err)
	}
	if res.Kind != ResultOK {
		t.Fatalf("Call(%q): %+v", method, res)
	}
	return string(out)
}

// mustLose checks that err is a lost worker with the given signal or exit
// description.
func mustLose(t *testing.T, err error, reason Reason, what string) *Failure {
	t.Helper()
	var f *Failure
	if !errors.As(err, &f) || f.Kind != FailLost || !errors.Is(err, ErrCrashed) {
		t.Fatalf("err = %v, want a lost worker", err)
	}
	if f.Exit == nil || f.Exit.Reason != reason || !strings.Contains(f.Exit.String(), what) {
		t.Fatalf("exit = %+v (%v), want reason %v and %q", f.Exit, err, reason, what)
	}
	return f
}

func TestEcho(t *testing.T) {
	c := start(t, "echo", Config{})
	if got := call(t, c, "process", "input data"); got != "input data" {
		t.Fatalf("echo = %q", got)
	}
	call(t, c, "process", "a much longer input than before")
	if got := call(t, c, "process", "short"); got != "short" {
		t.Fatalf("echo after a longer call = %q", got)
	}
	if got := call(t, c, "process", ""); got != "" {
		t.Fatalf("echo of nothing = %q", got)
	}
	if info := c.Info(); info.Version2 || info.HasState || info.Pid == os.Getpid() || info.Pid <= 0 {
		t.Fatalf("info = %+v", info)
	}
}

func TestConcurrentCalls(t *testing.T) {
	c := start(t, "echo", Config{Slots: 4})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 500 {
				want := fmt.Sprintf("g%d-%d", g, i)
				out, res, err := c.Call(context.Background(), nil, abi.MethodID("process"), []byte(want))
				if err != nil || res.Kind != ResultOK || string(out) != want {
					t.Errorf("call %s = %q, %+v, %v", want, out, res, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLargeArgsAndOutputs(t *testing.T) {
	c := start(t, "binary", Config{ArgCap: 4096})
	if !c.Info().Version2 {
		t.Fatal("binary is not ABI 2")
	}
	for _, n := range []int{0, 1, 4095, 4096, 4097, 3*4096 + 17, 1 << 20} {
		args := make([]byte, n)
		for i := range args {
			args[i] = byte(i*7 + 3)
		}
		dst := []byte("prefix")
		out, res, err := c.Call(context.Background(), dst, abi.MethodID("echo"), args)
		if err != nil || res.Kind != ResultOK {
			t.Fatalf("echo %d bytes: %+v, %v", n, res, err)
		}
		if !bytes.Equal(out, append([]byte("prefix"), args...)) {
			t.Fatalf("echo %d bytes: wrong output (%d bytes)", n, len(out))
		}
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], 5<<20)
	out, res, err := c.Call(context.Background(), nil, abi.MethodID("repeat"), n[:])
	if err != nil || res.Kind != ResultOK || len(out) != 5<<20 {
		t.Fatalf("repeat 5 MiB: %d bytes, %+v, %v", len(out), res, err)
	}
	for i := range out {
		if out[i] != byte(i*31+7) {
			t.Fatalf("repeat: byte %d = %d", i, out[i])
		}
	}
	_, res, err = c.Call(context.Background(), nil, abi.MethodID("fail"), nil)
	if err != nil || res.Kind != ResultCode || res.Code != 7 || res.Message != "custom failure" {
		t.Fatalf("fail: %+v, %v", res, err)
	}
	_, res, err = c.Call(context.Background(), nil, abi.MethodID("liar"), nil)
	if err != nil || res.Kind != ResultLiar {
		t.Fatalf("liar: %+v, %v", res, err)
	}
}

func TestMaxOutput(t *testing.T) {
	c := start(t, "binary", Config{MaxOutput: 1 << 20})
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], 2<<20)
	_, res, err := c.Call(context.Background(), nil, abi.MethodID("repeat"), n[:])
	if err != nil || res.Kind != ResultTooLarge || res.N != 2<<20 || res.Cap != 1<<20 {
		t.Fatalf("repeat 2 MiB with a 1 MiB limit: %+v, %v", res, err)
	}
}

func TestOverrun(t *testing.T) {
	c := start(t, "overflow", Config{})
	_, res, err := c.Call(context.Background(), nil, abi.MethodID("x"), nil)
	if err != nil || res.Kind != ResultOverrun {
		t.Fatalf("overflow: %+v, %v", res, err)
	}
	// A write far past the buffer hits the guard page: a crash, not a
	// silent corruption of the next slot.
	_, _, err = c.Call(context.Background(), nil, abi.MethodID("x"), []byte("20000"))
	mustLose(t, err, ReasonCrash, segvName)
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		module string
		class  int
		code   int32
	}{
		{"initfail", LoadInit, 42},
		{"missing", LoadSymbol, 0},
		{"abi99", LoadVersion, 0},
	} {
		_, err := Start(Config{Path: modtest.Path(t, c.module), OutputCap: 4096, MaxOutput: 1 << 20})
		skipWithoutExec(t, err)
		var lf *LoadFailure
		if !errors.As(err, &lf) || lf.Class != c.class || lf.Code != c.code {
			t.Errorf("%s: err = %#v", c.module, err)
		}
	}
	_, err := Start(Config{Path: "/nonexistent/x.so", OutputCap: 4096, MaxOutput: 1 << 20})
	var lf *LoadFailure
	if !errors.As(err, &lf) || lf.Class != LoadInvalid || !strings.Contains(lf.Msg, "/nonexistent/x.so") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestCrashesAndRestart(t *testing.T) {
	cases := []struct {
		method string
		reason Reason
		what   string
	}{
		{"segv", ReasonCrash, segvName},
		{"abort", ReasonCrash, abortName},
		{"exit", ReasonCrash, "exit status 3"},
	}
	c := start(t, "crashy", Config{Restart: true})
	for i, cs := range cases {
		pid := c.Pid()
		_, _, err := c.Call(context.Background(), nil, abi.MethodID(cs.method), nil)
		f := mustLose(t, err, cs.reason, cs.what)
		if f.Exit.Pid != pid {
			t.Errorf("%s: exit of pid %d, worker was %d", cs.method, f.Exit.Pid, pid)
		}
		if got := call(t, c, "echo", "alive"); got != "alive" {
			t.Fatalf("after %s: %q", cs.method, got)
		}
		if c.Pid() == pid {
			t.Errorf("after %s: same worker pid", cs.method)
		}
		if n := c.Restarts()[ReasonCrash]; n != uint64(i+1) {
			t.Errorf("after %s: %d crash restarts", cs.method, n)
		}
	}
}

func TestTimeoutKillsWorker(t *testing.T) {
	c := start(t, "crashy", Config{Restart: true, CallTimeout: 200 * time.Millisecond})
	begin := time.Now()
	_, _, err := c.Call(context.Background(), nil, abi.MethodID("loop"), nil)
	var f *Failure
	if !errors.As(err, &f) || f.Kind != FailTimeout || !errors.Is(err, ErrTimeout) {
		t.Fatalf("loop: %v", err)
	}
	if d := time.Since(begin); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
	if got := call(t, c, "echo", "back"); got != "back" {
		t.Fatalf("after timeout: %q", got)
	}
	if n := c.Restarts()[ReasonTimeout]; n != 1 {
		t.Errorf("timeout restarts = %d", n)
	}
}

func TestTimeoutFailsOtherSlots(t *testing.T) {
	c := start(t, "sleep", Config{Restart: true, CallTimeout: time.Second})
	errs := make(chan error, 1)
	go func() {
		time.Sleep(700 * time.Millisecond) // well after the long call started
		_, _, err := c.Call(context.Background(), nil, abi.MethodID("sleep"), []byte("3000"))
		errs <- err
	}()
	_, _, err := c.Call(context.Background(), nil, abi.MethodID("sleep"), []byte("5000"))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("long call: %v", err)
	}
	// The second call was running when the first one's timeout killed
	// their worker, 700 ms before its own (a margin wide enough for a
	// loaded machine).
	f := mustLose(t, <-errs, ReasonTimeout, "killed after timeout: a call ran longer than 1s")
	if !strings.Contains(f.Error(), "killed after") {
		t.Errorf("message %q", f.Error())
	}
}

func TestContextCancel(t *testing.T) {
	c := start(t, "crashy", Config{Restart: true})
	call(t, c, "echo", "warm")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, _, err := c.Call(ctx, nil, abi.MethodID("loop"), nil)
	var f *Failure
	if !errors.As(err, &f) || f.Kind != FailCanceled || !f.Killed || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("loop with a deadline: %v", err)
	}
	call(t, c, "echo", "restarted")
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel2)
	_, _, err = c.Call(ctx2, nil, abi.MethodID("loop"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("loop cancelled: %v", err)
	}
	if got := call(t, c, "echo", "ok"); got != "ok" {
		t.Fatal(got)
	}
	r := c.Restarts()
	if r[ReasonTimeout] != 1 || r[ReasonCanceled] != 1 {
		t.Errorf("restarts = %v", r)
	}
	// A context that ended before the call never reaches the worker.
	pid := c.Pid()
	_, _, err = c.Call(ctx2, nil, abi.MethodID("echo"), []byte("x"))
	if !errors.Is(err, context.Canceled) || c.Pid() != pid {
		t.Fatalf("call with a cancelled context: %v (pid %d, was %d)", err, c.Pid(), pid)
	}
}

func TestMemoryLimit(t *testing.T) {
	if !MemoryLimitEnforced {
		t.Skip("no memory limit on " + runtime.GOOS)
	}
	skipUnenforcedMemoryLimit(t)
	c := start(t, "crashy", Config{Restart: true, MemoryLimit: 64 << 20})
	_, _, err := c.Call(context.Background(), nil, abi.MethodID("bomb"), nil)
	f := mustLose(t, err, ReasonMemory, "memory limit of 64 MiB reached")
	t.Logf("bomb: %v; peak RSS %d MiB", err, f.Exit.MaxRSS>>20)
	if got := call(t, c, "echo", "ok"); got != "ok" {
		t.Fatal(got)
	}
	if n := c.Restarts()[ReasonMemory]; n != 1 {
		t.Errorf("memory restarts = %d", n)
	}
}

func TestRestartNever(t *testing.T) {
	c := start(t, "crashy", Config{})
	_, _, err := c.Call(context.Background(), nil, abi.MethodID("segv"), nil)
	mustLose(t, err, ReasonCrash, segvName)
	for range 3 {
		_, _, err = c.Call(context.Background(), nil, abi.MethodID("echo"), []byte("x"))
		f := mustLose(t, err, ReasonCrash, segvName)
		if f.Pending == nil || !strings.Contains(err.Error(), "RestartNever") {
			t.Fatalf("call after a crash without restarts: %v", err)
		}
	}
}

func TestState(t *testing.T) {
	c := start(t, "counter", Config{Init: []byte("40")})
	if !c.Info().HasState {
		t.Fatal("counter has no state")
	}
	call(t, c, "increment", "")
	state, res, err := c.GetState(context.Background(), 1<<20)
	if err != nil || res.Kind != ResultOK || len(state) != 8 || binary.LittleEndian.Uint64(state) != 41 {
		t.Fatalf("GetState = %v, %+v, %v", state, res, err)
	}
	if _, res, _ := c.GetState(context.Background(), 4); res.Kind != ResultTooLarge {
		t.Fatalf("GetState over its limit: %+v", res)
	}
	c2 := start(t, "counter", Config{})
	if res, err := c2.SetState(context.Background(), state); err != nil || res.Kind != ResultOK {
		t.Fatalf("SetState: %+v, %v", res, err)
	}
	if got := call(t, c2, "get", ""); got != "41" {
		t.Fatalf("restored counter = %q", got)
	}
	if res, err := c2.SetState(context.Background(), []byte("short")); err != nil || res.Kind != ResultCode {
		t.Fatalf("SetState of bad bytes: %+v, %v", res, err)
	}
}

func TestShutdown(t *testing.T) {
	cfg := Config{Path: modtest.Path(t, "echo"), OutputCap: 4096, MaxOutput: 1 << 20}
	c, err := Start(cfg)
	skipWithoutExec(t, err)
	if err != nil {
		t.Fatal(err)
	}
	pid := c.Pid()
	if rc, err := c.Shutdown(5 * time.Second); rc != 0 || err != nil {
		t.Fatalf("Shutdown = %d, %v", rc, err)
	}
	// Reaped: no such process (not even a zombie).
	if err := processExists(pid); err != nil {
		t.Fatalf("worker %d after Shutdown: %v", pid, err)
	}
	if _, _, err := c.Call(context.Background(), nil, 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Call after Shutdown: %v", err)
	}
	if r := c.Restarts(); r != ([NumReasons]uint64{}) {
		t.Fatalf("a shutdown counted as a restart: %v", r)
	}
}

func TestShutdownKillsAHungWorker(t *testing.T) {
	c, err := Start(Config{Path: modtest.Path(t, "crashy"), OutputCap: 4096, MaxOutput: 1 << 20})
	skipWithoutExec(t, err)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Call(context.Background(), nil, abi.MethodID("loop"), nil)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Abandon()
	if err := <-done; !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "unloaded") {
		t.Fatalf("call in an abandoned worker: %v", err)
	}
	c.Shutdown(time.Second)
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{0, 0, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	for i, w := range want {
		if got := backoff(i); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i, got, w)
		}
	}
	if got := backoff(100); got != MaxBackoff {
		t.Errorf("backoff(100) = %v", got)
	}
}

// cpuTicks returns utime+stime of process pid from /proc, in clock ticks.
func cpuTicks(t *testing.T, pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseUint(f[11], 10, 64)
	s, _ := strconv.ParseUint(f[12], 10, 64)
	return u + s
}

func TestIdleWorkerUsesNoCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if testing.Short() {
		t.Skip("takes 3s")
	}
	c := start(t, "echo", Config{})
	for range 10000 {
		call(t, c, "process", "warm")
	}
	time.Sleep(100 * time.Millisecond)
	before := cpuTicks(t, c.Pid())
	time.Sleep(3 * time.Second)
	used := cpuTicks(t, c.Pid()) - before
	// 100 ticks a second: 3 ticks over 3 s is 1% of a core.
	t.Logf("idle worker used %d clock ticks in 3s", used)
	if used > 3 {
		t.Errorf("idle worker used %d ticks (%.1f%% of a core)", used, float64(used))
	}
}

// rssKiB returns a process's resident set size in KiB and its thread
// count, from /proc.
func rssKiB(t *testing.T, pid int) (rss, threads int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "VmRSS:":
			rss, _ = strconv.Atoi(f[1])
		case len(f) >= 2 && f[0] == "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	return rss, threads
}

func TestWorkerFootprint(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	c := start(t, "echo", Config{})
	for range 1000 {
		call(t, c, "process", "warm")
	}
	time.Sleep(50 * time.Millisecond)
	rss, threads := rssKiB(t, c.Pid())
	t.Logf("worker: %d KiB resident, %d threads, %d-byte shared region", rss, threads, c.RegionBytes())
	if rss > 32<<10 {
		t.Errorf("worker RSS %d KiB", rss)
	}
}
