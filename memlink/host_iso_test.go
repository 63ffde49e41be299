package memlink_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// The isolated equivalents of host_test.go: the module runs in a worker,
// its host calls and records come back through the shared slot.

func TestIsolatedHostFunctions(t *testing.T) {
	kv := newKV()
	var log jsonLog
	var runs atomic.Int64
	opts := append(kv.options(), memlink.WithLogger(log.logger()),
		memlink.WithHostFunc("big", func(_ context.Context, args, out []byte) ([]byte, error) {
			runs.Add(1)
			return append(out, strings.Repeat("B", 1000)...), nil
		}),
		memlink.WithHostFunc("fail", func(context.Context, []byte, []byte) ([]byte, error) {
			return nil, errors.New("it went wrong")
		}),
		memlink.WithHostFunc("panic", func(context.Context, []byte, []byte) ([]byte, error) { panic("bug") }),
	)
	rt := memlink.New(opts...)
	defer rt.Close()
	h := loadIsolated(t, rt, "kv", memlink.Isolation{})
	if got := call(t, rt, h, "put", "colour=blue"); got != "ok" {
		t.Fatalf("put = %q", got)
	}
	if got := call(t, rt, h, "get", "colour"); got != "blue" {
		t.Fatalf("get = %q", got)
	}
	for _, c := range []struct {
		method, fn string
		first      byte
		want       string
		code       int32
		msg        string
	}{
		{"call", "big", 16, strings.Repeat("B", 1000), 0, ""},
		{"call1", "big", 16, "", -4, "1000"},
		{"call", "fail", 64, "", -1, "it went wrong"},
		{"call", "panic", 64, "", -5, "host function panicked"},
		{"call", "nothere", 64, "", -6, ""},
	} {
		before := runs.Load()
		out, err := rt.Call(h, c.method, callArgs(c.first, c.fn, ""))
		if c.code == 0 {
			if err != nil || string(out) != c.want {
				t.Errorf("%s(%s) = %.20q, %v", c.method, c.fn, out, err)
			}
			if runs.Load()-before != 1 {
				t.Errorf("%s(%s): the host function ran %d times, want once", c.method, c.fn, runs.Load()-before)
			}
			continue
		}
		var ce *memlink.CallError
		if !errors.As(err, &ce) || ce.Code != c.code || (c.code != -3 && ce.Message != c.msg) {
			t.Errorf("%s(%s) = %v; want code %d message %q", c.method, c.fn, err, c.code, c.msg)
		}
	}
	recs := log.find(t, "colour")
	want := map[string]any{"level": "DEBUG", "msg": "colour", "module": "kv", "handle": h.String(), "generation": 1.0, "method": "get"}
	if len(recs) != 1 || !cmp.Equal(want, recs[0]) {
		t.Errorf("record from the worker: %v, want %v", recs, want)
	}
	st := rt.Stats().Modules[0]
	if !st.HostBound || st.HostLogsDropped != 0 {
		t.Errorf("HostBound %v, HostLogsDropped %d; want true, 0", st.HostBound, st.HostLogsDropped)
	}
	if !slicesContain(st.HostCalls, memlink.HostCallCount{Function: "big", Result: "too_small", Count: 2}) {
		t.Errorf("HostCalls %v", st.HostCalls)
	}
}

// TestIsolatedHostFromOwnThread: in a worker, a thread of the module's
// own cannot reach Go (the runtime holds its callback until main's init
// is done, which a worker never sees). On amd64 (Windows included) and
// linux/arm64 the worker's table answers such a thread itself, at once:
// -6 for the call, and its record counted as dropped (internal/isolate's
// hostcall_shim_*.s).
// Elsewhere the thread blocks; the call waiting for it times out, the
// worker is killed and the next call gets a new one.
func TestIsolatedHostFromOwnThread(t *testing.T) {
	rt := memlink.New(noLog, memlink.WithHostFunc("kv.get", func(_ context.Context, _, out []byte) ([]byte, error) {
		return append(out, "v"...), nil
	}))
	defer rt.Close()
	const timeout = 5 * time.Second
	h := loadIsolated(t, rt, "kv", memlink.Isolation{CallTimeout: timeout})
	if runtime.GOARCH != "amd64" && (runtime.GOOS != "linux" || runtime.GOARCH != "arm64") {
		_, err := rt.Call(h, "thread", callArgs(64, "kv.get", "k"))
		if !errors.Is(err, memlink.ErrCallTimeout) {
			t.Fatalf("a host call from the module's own thread, isolated: %v; want ErrCallTimeout", err)
		}
	} else {
		for i := range 3 {
			start := time.Now()
			out, err := rt.Call(h, "thread", callArgs(64, "kv.get", "k"))
			var ce *memlink.CallError
			if !errors.As(err, &ce) || ce.Code != -6 {
				t.Fatalf("call %d from the module's own thread, isolated: %q, %v; want code -6", i, out, err)
			}
			if d := time.Since(start); d >= timeout/2 {
				t.Fatalf("call %d from the module's own thread took %v", i, d)
			}
		}
		// 16 goroutines at once, each call starting its thread: every
		// one answered, every record counted.
		var wg sync.WaitGroup
		errs := make(chan error, 16*4)
		for range 16 {
			wg.Go(func() {
				for range 4 {
					out, err := rt.Call(h, "thread", callArgs(64, "kv.get", "k"))
					var ce *memlink.CallError
					if !errors.As(err, &ce) || ce.Code != -6 {
						errs <- fmt.Errorf("concurrent call from the module's own thread: %q, %v; want code -6", out, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		st := rt.Stats().Modules[0]
		var restarts uint64
		for _, n := range st.WorkerRestarts {
			restarts += n
		}
		if st.HostLogsDropped != 3+16*4 || len(st.HostCalls) != 0 || restarts != 0 {
			t.Errorf("HostLogsDropped %d, HostCalls %v, WorkerRestarts %v; want %d (one record per thread), none, none",
				st.HostLogsDropped, st.HostCalls, st.WorkerRestarts, 3+16*4)
		}
	}
	if got := call(t, rt, h, "call", string(callArgs(64, "kv.get", "k"))); got != "v" {
		t.Fatalf("after the module's thread: %q", got)
	}
}

func slicesContain(s []memlink.HostCallCount, c memlink.HostCallCount) bool {
	for _, x := range s {
		if x == c {
			return true
		}
	}
	return false
}

func TestIsolatedHostContext(t *testing.T) {
	got := make(chan memlink.Caller, 1)
	rt := memlink.New(noLog,
		memlink.WithHostFunc("who", func(ctx context.Context, _, out []byte) ([]byte, error) {
			c, _ := memlink.CallerFrom(ctx)
			got <- c
			return out, nil
		}),
		memlink.WithHostFunc("wait", func(ctx context.Context, _, out []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}))
	defer rt.Close()
	h := loadIsolated(t, rt, "kv", memlink.Isolation{})
	if _, err := rt.Call(h, "call", callArgs(8, "who", "")); err != nil {
		t.Fatal(err)
	}
	if c := <-got; c != (memlink.Caller{Handle: h, Module: "kv", Method: "call", Generation: 1}) {
		t.Fatalf("caller %+v", c)
	}
	// The deadline reaches the host function. The call then fails with
	// the context's error (the worker, still running it, is killed), or,
	// when the module's answer is caught before the runtime sees the
	// deadline, with the module's -1 carrying the host function's error.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := rt.CallContext(ctx, h, "call", callArgs(64, "wait", ""))
	var ce *memlink.CallError
	if !errors.Is(err, context.DeadlineExceeded) && (!errors.As(err, &ce) || ce.Code != -1 || ce.Message != context.DeadlineExceeded.Error()) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	if got := call(t, rt, h, "nohost", ""); got != "bound" { // a new worker, bound again
		t.Fatalf("after the kill: %q", got)
	}
}

func TestIsolatedHostReentrancyAndConcurrency(t *testing.T) {
	rt := memlink.New(noLog)
	defer rt.Close()
	var self memlink.Handle
	var unloadErr error
	fns := map[string]memlink.HostFunc{
		"again": func(ctx context.Context, args, out []byte) ([]byte, error) {
			r, err := rt.CallContext(ctx, self, "nohost", nil)
			return append(append(out, r...), args...), err
		},
		"unload": func(ctx context.Context, _, out []byte) ([]byte, error) {
			unloadErr = rt.Unload(self)
			return out, nil
		},
		"echo": func(ctx context.Context, args, out []byte) ([]byte, error) {
			c, _ := memlink.CallerFrom(ctx)
			return append(append(out, c.Method...), args...), nil
		},
	}
	self = loadIsolated(t, rt, "kv", memlink.Isolation{Slots: 4}, memlink.WithHostFuncs(fns))
	if got := call(t, rt, self, "call", string(callArgs(64, "again", "!"))); got != "bound!" {
		t.Fatalf("re-entrant call: %q", got)
	}
	if _, err := rt.Call(self, "call", callArgs(64, "unload", "")); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(unloadErr, memlink.ErrReentrant) {
		t.Fatalf("Unload from its own host call: %v", unloadErr)
	}
	// The start of ErrReentrant's message as the module sees it, cut to
	// its out capacity (the file name is kv.so, kv.dll or kv.dylib).
	refused := "memlink: " + filepath.Base(modtest.Path(t, "kv")) + ": method"
	var wg sync.WaitGroup
	var nestedRefused atomic.Int64
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				arg := fmt.Sprintf(":%d:%d", g, i)
				fn, want := "echo", "call"+arg
				if i%10 == 0 {
					fn, want = "again", "bound"+arg // nested: may find every slot taken
				}
				out, err := rt.Call(self, "call", callArgs(byte(3+i%60), fn, arg))
				var ce *memlink.CallError
				if errors.As(err, &ce) && ce.Code == -1 && strings.HasPrefix(refused, ce.Message[:min(len(ce.Message), len(refused))]) {
					// All 4 slots held by calls in "again": the nested call
					// was refused (ErrReentrant, reaching the module as the
					// host function's error), not deadlocked.
					nestedRefused.Add(1)
					continue
				}
				if err != nil || string(out) != want {
					errs <- fmt.Errorf("goroutine %d call %d: %q, %v", g, i, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// With 16 callers on 4 slots, slots are rarely free for a nested call;
	// the sequential one above shows that it works when one is.
	t.Logf("%d of 80 nested calls refused for want of a slot", nestedRefused.Load())
}

// TestIsolatedOutputCaptured: what a worker prints becomes records, or
// nothing with OutputDiscard.
func TestIsolatedOutputCaptured(t *testing.T) {
	var log jsonLog
	rt := memlink.New(memlink.WithLogger(log.logger()))
	defer rt.Close()
	h := loadIsolated(t, rt, "kv", memlink.Isolation{})
	quietH := loadIsolated(t, rt, "kv", memlink.Isolation{Output: memlink.OutputDiscard})
	call(t, rt, quietH, "print", "discarded")
	call(t, rt, h, "print", "hello")
	want := []map[string]any{
		{"level": "INFO", "msg": "out: hello", "module": "kv", "handle": h.String(), "generation": 1.0, "stream": "stdout"},
		{"level": "WARN", "msg": "err: hello", "module": "kv", "handle": h.String(), "generation": 1.0, "stream": "stderr"},
	}
	var got []map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		got = append(log.find(t, "out: hello"), log.find(t, "err: hello")...)
		if len(got) == 2 {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("output records (-want +got):\n%s", diff)
	}
	if d := log.find(t, "out: discarded"); len(d) != 0 {
		t.Fatalf("OutputDiscard logged %v", d)
	}
}

// TestIsolatedWorkerEventsLogged: a lost worker and its replacement are
// logged at warn level.
func TestIsolatedWorkerEventsLogged(t *testing.T) {
	var log jsonLog
	rt := memlink.New(memlink.WithLogger(log.logger()))
	defer rt.Close()
	h := loadIsolated(t, rt, "crashy", memlink.Isolation{})
	if _, err := rt.Call(h, "segv", nil); !errors.Is(err, memlink.ErrModuleCrashed) {
		t.Fatalf("segv: %v", err)
	}
	call(t, rt, h, "echo", "again") // on a new worker
	var lost, restarted []map[string]any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && len(lost) == 0; time.Sleep(10 * time.Millisecond) {
		lost = log.find(t, "memlink: isolated worker lost")
	}
	restarted = log.find(t, "memlink: isolated worker restarted")
	if len(lost) != 1 || lost[0]["level"] != "WARN" || lost[0]["signal"] != segvSignal || lost[0]["reason"] != "crash" || lost[0]["module"] != "crashy" || lost[0]["handle"] != h.String() {
		t.Errorf("lost records: %v", lost)
	}
	if len(restarted) != 1 || restarted[0]["level"] != "WARN" || restarted[0]["handle"] != h.String() || restarted[0]["generation"] != 1.0 {
		t.Errorf("restart records: %v", restarted)
	}
}
