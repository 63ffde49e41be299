//go:build unix

package memlink_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/memlink/memlink-go/memlink"
)

// The directory's load options reach every module: here isolation, through
// the initial load and the reload of a changed file.
func TestWatchDirIsolated(t *testing.T) {
	v1, v2 := versions(t)
	dir := t.TempDir()
	dst := filepath.Join(dir, libName("iso"))
	writeFile(t, dst, v1)
	rt := memlink.New()
	defer rt.Close()
	w, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{
		Debounce: testDebounce,
		Load:     []memlink.LoadOption{memlink.WithIsolation(memlink.Isolation{CallTimeout: 5 * time.Second})},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := nextDirEvent(t, w, 20*time.Second)
	skipWithoutExec(t, ev.Err)
	if ev.Kind != memlink.DirAdded || ev.Err != nil {
		t.Fatalf("%v: %v", ev.Kind, ev.Err)
	}
	h := ev.Handle
	writeFile(t, dst, v2)
	if ev := nextDirEvent(t, w, 20*time.Second); ev.Kind != memlink.DirReloaded || ev.Err != nil || ev.Handle != h {
		t.Fatalf("%v %v: %v", ev.Kind, ev.Handle, ev.Err)
	}
	if got := callVersion(t, rt, h); got != "v2" {
		t.Fatalf("serving %q", got)
	}
}
