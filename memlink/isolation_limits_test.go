//go:build linux

package memlink_test

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestIsolatedInitTimeout: an isolated memlink_init that outlives its
// limit fails the load with ErrCallTimeout at that limit: InitTimeout, or
// CallTimeout when InitTimeout is zero.
func TestIsolatedInitTimeout(t *testing.T) {
	for _, iso := range []memlink.Isolation{{CallTimeout: time.Second}, {InitTimeout: 300 * time.Millisecond}} {
		rt := newRuntime(t)
		begin := time.Now()
		_, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "escapee")), memlink.WithIsolation(iso), memlink.WithConfig([]byte("initsleep=60000")))
		skipWithoutExec(t, err)
		if !errors.Is(err, memlink.ErrCallTimeout) || !strings.Contains(err.Error(), "memlink_init ran longer than") {
			t.Fatalf("%+v: Load: %v, want ErrCallTimeout", iso, err)
		}
		// Far less than the init's minute; starting the worker process is
		// not counted against the limit, and takes seconds on a loaded
		// machine.
		if d := time.Since(begin); d > 30*time.Second {
			t.Fatalf("%+v: Load failed after %v", iso, d)
		}
	}
}

// TestIsolatedNamesTheUsersFile: the worker's process title and a hung
// shutdown's error name the file the user loaded (not the private copy's
// /proc/self/fd path) and the limit that passed (the drain timeout).
func TestIsolatedNamesTheUsersFile(t *testing.T) {
	rt := newRuntime(t, memlink.WithDrainTimeout(300*time.Millisecond))
	old := childPids(t)
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "escapee")), memlink.WithIsolation(memlink.Isolation{}), memlink.WithConfig([]byte("shutdownsleep=20000")))
	skipWithoutExec(t, err)
	if err != nil {
		t.Fatal(err)
	}
	pids := slices.DeleteFunc(childPids(t), func(p int) bool { return slices.Contains(old, p) })
	if len(pids) != 1 {
		t.Fatalf("new children %v, want one", pids)
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pids[0]) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if title := strings.TrimRight(string(cmdline), "\x00"); title != "memlink-worker escapee.so" {
		t.Errorf("worker's title %q, want %q", title, "memlink-worker escapee.so")
	}
	err = rt.Unload(h)
	if err == nil || strings.Contains(err.Error(), "/proc/self/fd") || !strings.Contains(err.Error(), "escapee.so") || !strings.Contains(err.Error(), "longer than 300ms") {
		t.Fatalf("Unload with a hung memlink_shutdown: %v", err)
	}
}
