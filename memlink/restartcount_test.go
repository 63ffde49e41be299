package memlink_test

import (
	"errors"
	"testing"
	"time"

	"github.com/memlink/memlink-go/memlink"
)

// restartsOf returns handle h's WorkerRestarts.
func restartsOf(t *testing.T, rt *memlink.Runtime, h memlink.Handle) map[string]uint64 {
	t.Helper()
	for _, m := range rt.Stats().Modules {
		if m.Handle == h {
			return m.WorkerRestarts
		}
	}
	t.Fatalf("no stats for handle %v", h)
	return nil
}

// TestRestartCountedBeforeCallReturns: the restart reason of a worker lost
// during a call is counted by the time that call returns its error, for
// every reason, so that a Stats() right after the error sees it.
func TestRestartCountedBeforeCallReturns(t *testing.T) {
	cases := []struct {
		module, reason string
		iso            memlink.Isolation
		rounds         int
	}{
		{"segv", "crash", memlink.Isolation{}, 8},
		{"abort", "crash", memlink.Isolation{}, 4},
		{"loop", "timeout", memlink.Isolation{CallTimeout: 100 * time.Millisecond}, 4},
		{"bomb", "memory", memlink.Isolation{MemoryLimit: 64 << 20}, 3},
	}
	for _, c := range cases {
		t.Run(c.module, func(t *testing.T) {
			if c.reason == "memory" {
				skipNoMemoryLimit(t)
			}
			rt := newRuntime(t)
			h := loadIsolated(t, rt, c.module, c.iso)
			for i := range c.rounds {
				_, err := rt.Call(h, "process", []byte("x"))
				var ce *memlink.CrashError
				if !errors.As(err, &ce) && !errors.Is(err, memlink.ErrCallTimeout) {
					t.Fatalf("round %d: %v, want a crash or a timeout", i, err)
				}
				if ce != nil && ce.Reason != c.reason {
					t.Fatalf("round %d: reason %q, want %q (%v)", i, ce.Reason, c.reason, err)
				}
				if n := restartsOf(t, rt, h)[c.reason]; n != uint64(i+1) {
					t.Fatalf("round %d: WorkerRestarts[%q] = %d right after the call's error, want %d", i, c.reason, n, i+1)
				}
			}
		})
	}
}
