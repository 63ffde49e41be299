package memlink_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestEveryModuleBufferIsGuarded runs the greedy module, which asks for
// 5,000 bytes and writes 5,050, into the two heap buffers a module writes
// besides its lane buffer: the buffer of a -4 retry and the buffer
// memlink_serialize_state fills. Both overruns must be caught (the module
// quarantined, the state transfer refused), in process and isolated.
func TestEveryModuleBufferIsGuarded(t *testing.T) {
	for _, isolated := range []bool{false, true} {
		name := "in-process"
		if isolated {
			name = "isolated"
		}
		t.Run(name, func(t *testing.T) {
			var lo []memlink.LoadOption
			if isolated {
				lo = append(lo, memlink.WithIsolation(memlink.Isolation{}))
			}
			rt := memlink.New()
			t.Cleanup(func() { rt.Close() })
			path := modtest.Path(t, "greedy")
			// load takes the subtest's t: a skip must end the subtest that
			// called it, not its parent.
			load := func(t *testing.T) memlink.Handle {
				t.Helper()
				h, err := rt.Load(memlink.MustParseRef(path), lo...)
				if isolated && errors.Is(err, syscall.ENOEXEC) {
					t.Skipf("cannot start a worker process from this program here: %v", err)
				}
				if err != nil {
					t.Fatal(err)
				}
				return h
			}

			t.Run("retry", func(t *testing.T) {
				h := load(t)
				if got := call(t, rt, h, "small", ""); got != "ok" {
					t.Fatalf("small = %q", got)
				}
				dst := make([]byte, 3, 8)
				copy(dst, "pre")
				out, err := rt.CallAppend(dst, h, "retry", nil)
				if !errors.Is(err, memlink.ErrModuleCorrupted) {
					t.Fatalf("retry overrun: %d bytes, %v; want ErrModuleCorrupted", len(out), err)
				}
				if string(out) != "pre" {
					t.Fatalf("dst after a refused call = %q", out)
				}
				// Quarantined from now on.
				if _, err := rt.Call(h, "small", nil); !errors.Is(err, memlink.ErrModuleCorrupted) {
					t.Fatalf("call after the overrun: %v", err)
				}
				if st := moduleStats(t, rt, h); st.Corruptions < 1 {
					t.Fatalf("corruptions = %d", st.Corruptions)
				}
			})

			t.Run("state", func(t *testing.T) {
				h := load(t)
				_, err := rt.Reload(h, memlink.MustParseRef(path), hotreload.Config{PreserveState: true})
				if !errors.Is(err, hotreload.ErrStateTransfer) || !errors.Is(err, memlink.ErrModuleCorrupted) {
					t.Fatalf("stateful reload of an overrunning state: %v", err)
				}
				if u, _ := rt.Usage(h); u.Generation != 1 {
					t.Fatalf("generation %d after a refused state transfer", u.Generation)
				}
				if _, err := rt.Call(h, "small", nil); !errors.Is(err, memlink.ErrModuleCorrupted) {
					t.Fatalf("call after the state overrun: %v", err)
				}
			})
		})
	}
}

func moduleStats(t *testing.T, rt *memlink.Runtime, h memlink.Handle) memlink.ModuleStats {
	t.Helper()
	for _, m := range rt.Stats().Modules {
		if m.Handle == h {
			return m
		}
	}
	t.Fatalf("no stats for handle %v", h)
	return memlink.ModuleStats{}
}
