package rust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/memlink/memlink-go/memlink"
)

// syncBuffer is a bytes.Buffer safe for a logger used from many threads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// kv is the host side of the hostcall example: a map behind kv.get and
// kv.put.
type kv struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *kv) get(ctx context.Context, args, out []byte) ([]byte, error) {
	if c, ok := memlink.CallerFrom(ctx); !ok || c.Module == "" {
		return nil, fmt.Errorf("no caller in the host call's context")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(args)]
	if !ok {
		return nil, fmt.Errorf("no key %q", args)
	}
	return append(out, v...), nil
}

func (s *kv) put(_ context.Context, args, out []byte) ([]byte, error) {
	k, v, ok := strings.Cut(string(args), "=")
	if !ok {
		return nil, errors.New("want key=value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return append(out, "ok"...), nil
}

func hostRuntime(t *testing.T) (*memlink.Runtime, *syncBuffer) {
	t.Helper()
	store := &kv{m: map[string]string{}}
	logs := &syncBuffer{}
	rt := newRuntime(t,
		memlink.WithHostFunc("kv.get", store.get),
		memlink.WithHostFunc("kv.put", store.put),
		memlink.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	)
	return rt, logs
}

// hostCalls drives the hostcall example through every outcome.
func hostCalls(t *testing.T, rt *memlink.Runtime, h memlink.Handle, logs *syncBuffer, threads bool) {
	t.Helper()
	if got := call(t, rt, h, "put", "user=ada"); got != "ok" {
		t.Fatalf("put: %q", got)
	}
	if got := call(t, rt, h, "get", "user"); got != "ada" {
		t.Fatalf("get: %q", got)
	}
	// A value larger than the SDK's first buffer (256 bytes): the host
	// answers -4 and hands the kept result over on the retry.
	long := strings.Repeat("0123456789", 1000)
	call(t, rt, h, "put", "long="+long)
	if got := call(t, rt, h, "get", "long"); got != long {
		t.Fatalf("get long: %d bytes, want %d", len(got), len(long))
	}
	// A HostFunc error reaches the module as -1 with its text, and the
	// module passes it on.
	_, err := rt.Call(h, "get", []byte("absent"))
	var ce *memlink.CallError
	if !errors.As(err, &ce) || ce.Code != -1 || !strings.Contains(ce.Message, `no key "absent"`) {
		t.Fatalf("get absent: err = %v, want code -1 with the HostFunc's error", err)
	}
	// A function nobody registered is -6.
	if _, err := rt.Call(h, "missing", nil); !errors.Is(err, memlink.ErrUnknownMethod) {
		t.Fatalf("missing host function: err = %v, want code -6", err)
	}
	// A log record with the module's attributes.
	call(t, rt, h, "log", "hello from rust")
	found := false
	for _, r := range logs.records(t) {
		if r["msg"] == "hello from rust" {
			found = true
			if r["level"] != "INFO" || r["module"] == nil || r["method"] != "log" {
				t.Fatalf("log record %v: want level INFO, a module and method log", r)
			}
		}
	}
	if !found {
		t.Fatalf("no log record of the module's; got %v", logs.records(t))
	}
	// From a thread the module starts: it works, or the module gets an
	// error code; never a crash. (In a worker such a callback cannot be
	// served at all: see Isolation's documentation; the Go tests of
	// package memlink show the call ending with its timeout.)
	if threads {
		got, err := rt.Call(h, "thread", []byte("user"))
		t.Logf("thread: %q, %v", got, err)
		if err == nil && string(got) != "ada" {
			t.Fatalf("thread: %q", got)
		}
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("thread: err = %v, want a result or a *CallError", err)
		}
	}
	// 16 goroutines at once.
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				out, err := rt.Call(h, "get", []byte("user"))
				if err != nil || string(out) != "ada" {
					t.Errorf("goroutine %d: %q, %v", g, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestHostCalls(t *testing.T) {
	rt, logs := hostRuntime(t)
	h := load(t, rt, rustModule(t, "rust_hostcall"))
	hostCalls(t, rt, h, logs, true)
}
