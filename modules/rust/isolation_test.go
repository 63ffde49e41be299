//go:build unix

package rust_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/memlink/memlink-go/memlink"
)

// isolated loads a Rust module into a worker process.
func isolated(t *testing.T, rt *memlink.Runtime, name string) memlink.Handle {
	t.Helper()
	h, err := rt.Load(memlink.MustParseRef(rustModule(t, name)), memlink.WithIsolation(memlink.Isolation{}))
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot start a worker process from this program here: %v", err)
	}
	if err != nil {
		t.Fatalf("Load(%s, isolated): %v", name, err)
	}
	return h
}

func TestIsolated(t *testing.T) {
	rt := newRuntime(t)
	h := isolated(t, rt, "rust_echo")
	echoExact(t, rt, h)
	unknownAndPanic(t, rt, h)
	bigCountedOnce(t, rt, isolated(t, rt, "rust_counter"))
}

func TestIsolatedStatefulReload(t *testing.T) {
	counterReloads(t, newRuntime(t), memlink.WithIsolation(memlink.Isolation{}))
}
