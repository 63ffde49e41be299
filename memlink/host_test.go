package memlink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// kvStore is the host side of the kv module: kv.get and kv.put over a map,
// counting how often each runs.
type kvStore struct {
	mu         sync.Mutex
	m          map[string]string
	gets, puts atomic.Int64
}

func newKV() *kvStore { return &kvStore{m: map[string]string{}} }

func (s *kvStore) get(ctx context.Context, args, out []byte) ([]byte, error) {
	s.gets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(args)]
	if !ok {
		return nil, fmt.Errorf("no key %q", args)
	}
	return append(out, v...), nil
}

func (s *kvStore) put(ctx context.Context, args, out []byte) ([]byte, error) {
	s.puts.Add(1)
	k, v, ok := strings.Cut(string(args), "=")
	if !ok {
		return nil, errors.New("want key=value")
	}
	s.mu.Lock()
	s.m[k] = v
	s.mu.Unlock()
	return out, nil
}

func (s *kvStore) options() []memlink.Option {
	return []memlink.Option{memlink.WithHostFunc("kv.get", s.get), memlink.WithHostFunc("kv.put", s.put)}
}

// jsonLog is a JSON slog handler writing into a buffer, with the records
// read back as maps.
type jsonLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (j *jsonLog) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.buf.Write(p)
}

func (j *jsonLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(j, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (j *jsonLog) records(t testing.TB) []map[string]any {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	var recs []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(j.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		delete(m, "time")
		recs = append(recs, m)
	}
	return recs
}

// find returns the records whose msg is msg.
func (j *jsonLog) find(t testing.TB, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range j.records(t) {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// callArgs encodes kv's "call" arguments.
func callArgs(firstCap byte, fn string, payload string) []byte {
	return append(append([]byte{firstCap}, fn+"\x00"...), payload...)
}

func loadKV(t testing.TB, rt *memlink.Runtime, opts ...memlink.LoadOption) memlink.Handle {
	t.Helper()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "kv")), opts...)
	if err != nil {
		t.Fatalf("Load(kv): %v", err)
	}
	return h
}

func TestHostFunctionsGetPut(t *testing.T) {
	kv := newKV()
	var log jsonLog
	rt := memlink.New(append(kv.options(), memlink.WithLogger(log.logger()))...)
	defer rt.Close()
	h := loadKV(t, rt)
	if got := call(t, rt, h, "put", "colour=blue"); got != "ok" {
		t.Fatalf("put = %q", got)
	}
	if got := call(t, rt, h, "get", "colour"); got != "blue" {
		t.Fatalf("get = %q, want blue", got)
	}
	// A HostFunc error reaches the module as -1 with its text, and the
	// module passes both on.
	_, err := rt.Call(h, "get", []byte("nope"))
	var ce *memlink.CallError
	if !errors.As(err, &ce) || ce.Code != -1 || ce.Message != `no key "nope"` {
		t.Fatalf("get of a missing key: %v, want code -1 with the host's message", err)
	}
	ready := log.find(t, "kv ready")
	if len(ready) != 1 {
		t.Fatalf("memlink_init's record: %v", log.records(t))
	}
	// Logged during memlink_init: before the handle existed, outside a call.
	if diff := cmp.Diff(map[string]any{"level": "INFO", "msg": "kv ready", "module": "kv", "handle": "", "generation": 1.0}, ready[0]); diff != "" {
		t.Errorf("init record (-want +got):\n%s", diff)
	}
	got := log.find(t, "colour")
	if len(got) != 1 { // get logs its key at debug level
		t.Fatalf("debug records %v", log.records(t))
	}
	want := map[string]any{"level": "DEBUG", "msg": "colour", "module": "kv", "handle": h.String(), "generation": 1.0, "method": "get"}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("call record (-want +got):\n%s", diff)
	}
	st := rt.Stats().Modules[0]
	wantCalls := []memlink.HostCallCount{
		{Function: "kv.get", Result: "ok", Count: 1},
		{Function: "kv.get", Result: "error", Count: 1},
		{Function: "kv.put", Result: "ok", Count: 1},
	}
	if diff := cmp.Diff(wantCalls, st.HostCalls); diff != "" {
		t.Errorf("HostCalls (-want +got):\n%s", diff)
	}
	if st.HostLogs != 3 || st.HostLogsDropped != 0 {
		t.Errorf("HostLogs %d, dropped %d; want 3, 0", st.HostLogs, st.HostLogsDropped)
	}
}

// TestHostOutcomeCodes checks every result code of a host call, as the
// module sees it and as the host counts it.
func TestHostOutcomeCodes(t *testing.T) {
	var runs atomic.Int64
	big := strings.Repeat("B", 1000)
	var log jsonLog
	rt := memlink.New(memlink.WithLogger(log.logger()),
		memlink.WithHostFunc("ok", func(_ context.Context, args, out []byte) ([]byte, error) {
			runs.Add(1)
			return append(out, "got "+string(args)...), nil
		}),
		memlink.WithHostFunc("big", func(_ context.Context, args, out []byte) ([]byte, error) {
			runs.Add(1)
			return append(out, big...), nil
		}),
		memlink.WithHostFunc("fail", func(context.Context, []byte, []byte) ([]byte, error) {
			return nil, errors.New("it went wrong")
		}),
		memlink.WithHostFunc("panic", func(context.Context, []byte, []byte) ([]byte, error) {
			panic("host function bug")
		}),
		memlink.WithHostFunc("elsewhere", func(context.Context, []byte, []byte) ([]byte, error) {
			return []byte("not in out"), nil // a result not appended to out is copied
		}),
	)
	defer rt.Close()
	h := loadKV(t, rt)
	cases := []struct {
		method   string
		firstCap byte
		fn, args string
		want     string
		code     int32
		msg      string
	}{
		{"call", 64, "ok", "x", "got x", 0, ""},
		{"call", 5, "ok", "x", "got x", 0, ""}, // exactly fits
		{"call", 64, "elsewhere", "", "not in out", 0, ""},
		{"call1", 64, "big", "", "", -4, "1000"}, // -4 with the size needed
		{"call", 16, "big", "", big, 0, ""},      // -4, then the hand-over
		{"call", 64, "fail", "", "", -1, "it went wrong"},
		{"call", 64, "panic", "", "", -5, "host function panicked"},
		{"call", 64, "nothere", "", "", -6, ""},
	}
	for _, c := range cases {
		before := runs.Load()
		out, err := rt.Call(h, c.method, callArgs(c.firstCap, c.fn, c.args))
		if c.code == 0 {
			if err != nil || string(out) != c.want {
				t.Errorf("%s(%s, cap %d) = %q, %v; want %q", c.method, c.fn, c.firstCap, out, err, c.want)
			}
		} else {
			var ce *memlink.CallError
			if !errors.As(err, &ce) || ce.Code != c.code || ce.Message != c.msg {
				t.Errorf("%s(%s) = %v; want code %d message %q", c.method, c.fn, err, c.code, c.msg)
			}
		}
		if c.fn == "big" && c.method == "call" && runs.Load()-before != 1 {
			t.Errorf("the -4 hand-over ran the host function %d times, want once", runs.Load()-before)
		}
	}
	if recs := log.find(t, "memlink: host function panicked"); len(recs) != 1 || recs[0]["function"] != "panic" || recs[0]["level"] != "ERROR" || recs[0]["handle"] != h.String() {
		t.Errorf("panic records: %v", recs)
	}
	st := rt.Stats().Modules[0]
	wantCalls := []memlink.HostCallCount{
		{Function: "big", Result: "ok", Count: 1},
		{Function: "big", Result: "too_small", Count: 2},
		{Function: "elsewhere", Result: "ok", Count: 1},
		{Function: "fail", Result: "error", Count: 1},
		{Function: "ok", Result: "ok", Count: 2},
		{Function: "panic", Result: "panicked", Count: 1},
		{Function: "(unknown)", Result: "unknown", Count: 1},
	}
	if diff := cmp.Diff(wantCalls, st.HostCalls); diff != "" {
		t.Errorf("HostCalls (-want +got):\n%s", diff)
	}
}

// TestHostHandOverNeedsSameArgs: a retry with other args is a new host
// call, and a held result does not outlive its module call.
func TestHostHandOverNeedsSameArgs(t *testing.T) {
	var runs atomic.Int64
	rt := memlink.New(noLog, memlink.WithHostFunc("big", func(_ context.Context, args, out []byte) ([]byte, error) {
		runs.Add(1)
		return append(out, bytes.Repeat(args, 100)...), nil
	}))
	defer rt.Close()
	h := loadKV(t, rt)
	// call1 leaves the result held; its call ends, which drops it.
	for range 3 {
		if _, err := rt.Call(h, "call1", callArgs(10, "big", "ab")); err == nil {
			t.Fatal("call1 of a large result succeeded")
		}
	}
	out, err := rt.Call(h, "call", callArgs(10, "big", "ab"))
	if err != nil || string(out) != strings.Repeat("ab", 100) {
		t.Fatalf("call = %q, %v", out, err)
	}
	if n := runs.Load(); n != 4 {
		t.Fatalf("host function ran %d times, want 4 (3 abandoned -4s, then one handed over)", n)
	}
}

func TestHostGrantIsolation(t *testing.T) {
	audit := func(_ context.Context, args, out []byte) ([]byte, error) { return append(out, "audited"...), nil }
	rt := memlink.New(noLog, memlink.WithHostFunc("shared", func(_ context.Context, _, out []byte) ([]byte, error) {
		return append(out, "shared"...), nil
	}))
	defer rt.Close()
	a := loadKV(t, rt, memlink.WithHostFuncs(map[string]memlink.HostFunc{"audit": audit}))
	b := loadKV(t, rt)
	for _, c := range []struct {
		h    memlink.Handle
		fn   string
		want string
	}{{a, "audit", "audited"}, {a, "shared", "shared"}, {b, "shared", "shared"}, {b, "audit", ""}} {
		out, err := rt.Call(c.h, "call", callArgs(64, c.fn, ""))
		if c.want == "" {
			var ce *memlink.CallError
			if !errors.As(err, &ce) || ce.Code != -6 {
				t.Errorf("module %d calling %s: %q, %v; want -6", c.h, c.fn, out, err)
			}
			continue
		}
		if err != nil || string(out) != c.want {
			t.Errorf("module %d calling %s: %q, %v; want %q", c.h, c.fn, out, err, c.want)
		}
	}
}

func TestHostContextAndCaller(t *testing.T) {
	type seen struct {
		c        memlink.Caller
		ok       bool
		deadline time.Time
		value    any
	}
	got := make(chan seen, 4)
	rt := memlink.New(noLog, memlink.WithHostFunc("who", func(ctx context.Context, _, out []byte) ([]byte, error) {
		c, ok := memlink.CallerFrom(ctx)
		d, _ := ctx.Deadline()
		got <- seen{c, ok, d, ctx.Value(ctxKey{})}
		return out, ctx.Err()
	}))
	defer rt.Close()
	h := loadKV(t, rt)
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), ctxKey{}, "v"), deadline)
	defer cancel()
	if _, err := rt.CallContext(ctx, h, "call", callArgs(8, "who", "")); err != nil {
		t.Fatal(err)
	}
	s := <-got
	want := memlink.Caller{Handle: h, Module: "kv", Method: "call", Generation: 1}
	if !s.ok || s.c != want || !s.deadline.Equal(deadline) || s.value != "v" {
		t.Fatalf("HostFunc saw %+v, want caller %+v, deadline %v and the context's value", s, want, deadline)
	}
	// A thread of the module's own is outside any call: no method, no
	// deadline, but it works.
	if _, err := rt.CallContext(ctx, h, "thread", callArgs(8, "who", "")); err != nil {
		t.Fatal(err)
	}
	s = <-got
	if !s.ok || s.c.Method != "" || s.c.Handle != h || !s.deadline.IsZero() {
		t.Fatalf("from a thread: %+v", s)
	}
	if _, ok := memlink.CallerFrom(context.Background()); ok {
		t.Fatal("CallerFrom(Background) reported a caller")
	}
}

type ctxKey struct{}

// noLog discards the runtime's records in tests that do not look at them.
var noLog = memlink.WithLogger(nil)

// TestHostDeadlineReachesHostFunc: the HostFunc sees CallContext's
// deadline expire and its error reaches the caller through the module.
func TestHostDeadlineReachesHostFunc(t *testing.T) {
	rt := memlink.New(noLog, memlink.WithHostFunc("wait", func(ctx context.Context, _, out []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	defer rt.Close()
	h := loadKV(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := rt.CallContext(ctx, h, "call", callArgs(64, "wait", ""))
	var ce *memlink.CallError
	if !errors.As(err, &ce) || ce.Code != -1 || ce.Message != context.DeadlineExceeded.Error() {
		t.Fatalf("err = %v, want code -1 with %q", err, context.DeadlineExceeded)
	}
}

func TestHostReentrancy(t *testing.T) {
	rt := memlink.New(noLog)
	defer rt.Close()
	var self, other memlink.Handle
	results := map[string]error{}
	var mu sync.Mutex
	note := func(k string, err error) {
		mu.Lock()
		results[k] = err
		mu.Unlock()
	}
	fns := map[string]memlink.HostFunc{
		"again": func(ctx context.Context, args, out []byte) ([]byte, error) {
			// Call the same module, and another, from inside a host call.
			r1, err := rt.CallContext(ctx, self, "nohost", nil)
			if err != nil {
				return nil, err
			}
			r2, err := rt.Call(other, "call", callArgs(64, "leaf", ""))
			if err != nil {
				return nil, err
			}
			return append(append(append(out, r1...), '+'), r2...), nil
		},
		"unload": func(ctx context.Context, args, out []byte) ([]byte, error) {
			note("unload", rt.Unload(self))
			_, err := rt.Reload(self, memlink.MustParseRef(modtest.Path(t, "kv")), hotreload.Config{})
			note("reload", err)
			note("close", rt.Close())
			note("unload other", rt.Unload(other))
			return out, nil
		},
	}
	self = loadKV(t, rt, memlink.WithHostFuncs(fns))
	other = loadKV(t, rt, memlink.WithHostFuncs(map[string]memlink.HostFunc{
		"leaf": func(_ context.Context, _, out []byte) ([]byte, error) { return append(out, "leaf"...), nil },
	}))
	out, err := rt.Call(self, "call", callArgs(64, "again", ""))
	if err != nil || string(out) != "bound+leaf" {
		t.Fatalf("re-entrant calls: %q, %v", out, err)
	}
	done := make(chan error, 1)
	go func() { _, err := rt.Call(self, "call", callArgs(64, "unload", "")); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Unload from inside a host call deadlocked")
	}
	for _, k := range []string{"unload", "reload", "close"} {
		if !errors.Is(results[k], memlink.ErrReentrant) {
			t.Errorf("%s from its own host call: %v, want ErrReentrant", k, results[k])
		}
	}
	if results["unload other"] != nil {
		t.Errorf("unloading another module from a host call: %v", results["unload other"])
	}
	if got := call(t, rt, self, "nohost", ""); got != "bound" {
		t.Fatalf("module after refused unload: %q", got)
	}
}

// TestHostConcurrent: 16 goroutines call a host-calling method at once;
// each sees its own caller and result.
func TestHostConcurrent(t *testing.T) {
	rt := memlink.New(memlink.WithLogger(nil), memlink.WithHostFunc("echo", func(ctx context.Context, args, out []byte) ([]byte, error) {
		c, _ := memlink.CallerFrom(ctx)
		return append(append(out, c.Method...), args...), nil
	}))
	defer rt.Close()
	h := loadKV(t, rt)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 300 {
				arg := fmt.Sprintf(":%d:%d", g, i)
				method := "call"
				if i%3 == 0 {
					method = "thread"
				}
				first := byte(64)
				if i%5 == 0 {
					first = 3 // through the -4 hand-over
				}
				out, err := rt.Call(h, method, callArgs(first, "echo", arg))
				want := "call" + arg
				if method == "thread" {
					want = arg
				}
				if err != nil || string(out) != want {
					errs <- fmt.Errorf("goroutine %d call %d: %q, %v; want %q", g, i, out, err, want)
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
}

func TestHostMisuse(t *testing.T) {
	kv := newKV()
	var log jsonLog
	rt := memlink.New(append(kv.options(), memlink.WithLogger(log.logger()))...)
	defer rt.Close()
	// In place: the module pins itself in memory (for its late thread),
	// and the dynamic loader then matches later loads by file name; a
	// private copy's name (/proc/self/fd/N) comes back for other modules.
	path := modtest.Path(t, "hostmisuse")
	if runtime.GOOS == "windows" {
		// A pinned DLL cannot be deleted while the process runs, so this
		// copy stays out of t.TempDir, whose cleanup would fail.
		path = pinnedCopy(t, path)
	}
	h, err := rt.Load(memlink.MustParseRef(path), memlink.LoadInPlace())
	if err != nil {
		t.Fatal(err)
	}
	for method, want := range map[string]string{"unknown": "-6", "huge": "-2", "nolen": "-2", "nullargs": "-2", "badlog": "0"} {
		if got := call(t, rt, h, method, ""); got != want {
			t.Errorf("%s: host answered %s, want %s", method, got, want)
		}
	}
	if n := kv.gets.Load(); n != 0 {
		t.Errorf("kv.get ran %d times for misused calls", n)
	}
	recs := log.records(t)
	if len(recs) != 1 || len(recs[0]["msg"].(string)) != 64<<10 || recs[0]["truncated"] != true {
		t.Errorf("badlog: want one record cut to 64 KiB, got %d records", len(recs))
	}
	if st := rt.Stats().Modules[0]; st.HostLogsDropped != 1 {
		t.Errorf("HostLogsDropped = %d, want 1 (the NULL message)", st.HostLogsDropped)
	}

	// A thread that outlives the module and then uses the table.
	file := filepath.Join(t.TempDir(), "later")
	if got := call(t, rt, h, "later", file); got != "0" {
		t.Fatalf("later: %s", got)
	}
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
	var b []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err = os.ReadFile(file); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			break
		}
	}
	if strings.TrimSpace(string(b)) != "copy=-6 kept=-6" { // \r\n on Windows (text mode)
		t.Fatalf("the module's thread after unload got %q, want -6 for both", b)
	}
	if n := kv.gets.Load(); n != 0 {
		t.Errorf("kv.get ran %d times after unload", n)
	}
	if d := rt.Stats().HostLogsDropped; d != 2 {
		t.Errorf("Stats.HostLogsDropped = %d, want 2 (the late records)", d)
	}
}

func TestModuleWithoutHostBind(t *testing.T) {
	rt := memlink.New(memlink.WithHostFunc("x", func(context.Context, []byte, []byte) ([]byte, error) { return nil, nil }))
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")))
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, rt, h, "process", "hi"); got != "hi" {
		t.Fatal(got)
	}
	if st := rt.Stats().Modules[0]; st.HostCalls != nil {
		t.Fatalf("HostCalls of a module without memlink_host_bind: %v", st.HostCalls)
	}
}

// TestRuntimeEventsLogged: reloads and quarantines reach WithLogger.
func TestRuntimeEventsLogged(t *testing.T) {
	var log jsonLog
	rt := memlink.New(memlink.WithLogger(log.logger()))
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "version_v1")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "version_v2")), hotreload.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "initfail")), hotreload.Config{}); err == nil {
		t.Fatal("reload to initfail succeeded")
	}
	ok, back := log.find(t, "memlink: module reloaded"), log.find(t, "memlink: reload rolled back")
	if len(ok) != 1 || ok[0]["level"] != "INFO" || ok[0]["generation"] != 2.0 || ok[0]["module"] != "version_v1" || ok[0]["result"] != "ok" || ok[0]["handle"] != h.String() {
		t.Errorf("reload records: %v", ok)
	}
	if len(back) != 1 || back[0]["level"] != "WARN" || back[0]["result"] != "rolled_back" {
		t.Errorf("rollback records: %v", back)
	}
	o, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "overflow")))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := rt.Call(o, "x", nil); !errors.Is(err, memlink.ErrModuleCorrupted) {
			t.Fatalf("overflow: %v", err)
		}
	}
	q := log.find(t, "memlink: module quarantined: it corrupted its output; reload or unload it")
	if len(q) != 1 || q[0]["level"] != "ERROR" || q[0]["module"] != "overflow" || q[0]["method"] != "x" || q[0]["handle"] != o.String() || q[0]["generation"] != 1.0 {
		t.Errorf("quarantine records (want one, at the first corruption): %v", q)
	}
}

// pinnedCopy copies the module at path into a directory of its own that is
// not removed: a module that pins itself keeps its file in use until the
// process ends.
func pinnedCopy(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "memlink-pinned-")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
