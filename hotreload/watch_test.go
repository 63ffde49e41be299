package hotreload_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

func TestMain(m *testing.M) { modtest.Main(m) }

// replace puts the contents of src at dst the way a build does: write a
// temporary file next to it, then rename it over dst.
func replace(t *testing.T, src []byte, dst string) {
	t.Helper()
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

func version(t *testing.T, rt *memlink.Runtime, h memlink.Handle) string {
	t.Helper()
	out, err := rt.Call(h, "version", nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func nextEvent(t *testing.T, w *hotreload.Watcher) hotreload.Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatal("watcher stopped")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no reload event within 10s")
	}
	panic("unreachable")
}

func TestWatchReloadsOnChange(t *testing.T) {
	v1, err := os.ReadFile(modtest.Path(t, "version_v1"))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := os.ReadFile(modtest.Path(t, "version_v2"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "business_logic"+filepath.Ext(modtest.Path(t, "echo")))
	if err := os.WriteFile(p, v1, 0o755); err != nil {
		t.Fatal(err)
	}
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	w, err := hotreload.Watch(context.Background(), rt, h, p, hotreload.WatchConfig{
		Interval: 50 * time.Millisecond, Debounce: 30 * time.Millisecond, Settle: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	replace(t, v2, p)
	ev := nextEvent(t, w)
	if ev.Err != nil || ev.Report.Generation != 2 || ev.Path != p {
		t.Fatalf("event = %+v", ev)
	}
	if got := version(t, rt, h); got != "v2" {
		t.Fatalf("after the rebuild: %q", got)
	}

	// A broken file: reported, and the old version keeps serving.
	replace(t, []byte("half-written garbage"), p)
	ev = nextEvent(t, w)
	if !errors.Is(ev.Err, memlink.ErrInvalidModule) || ev.Report.Generation != 2 {
		t.Fatalf("broken file event = %+v", ev)
	}
	if got := version(t, rt, h); got != "v2" {
		t.Fatalf("after a broken file: %q", got)
	}

	// Fixed again.
	replace(t, v1, p)
	ev = nextEvent(t, w)
	if ev.Err != nil || ev.Report.Generation != 3 {
		t.Fatalf("event = %+v", ev)
	}
	if got := version(t, rt, h); got != "v1" {
		t.Fatalf("after the fix: %q", got)
	}
	w.Close()
	if _, ok := <-w.Events(); ok {
		t.Fatal("Events not closed after Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestWatchDebouncesPartialWrites(t *testing.T) {
	v1, _ := os.ReadFile(modtest.Path(t, "version_v1"))
	v2, _ := os.ReadFile(modtest.Path(t, "version_v2"))
	p := filepath.Join(t.TempDir(), "mod"+filepath.Ext(modtest.Path(t, "echo")))
	os.WriteFile(p, v1, 0o755)
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	w, err := hotreload.Watch(context.Background(), rt, h, p, hotreload.WatchConfig{
		Interval: 20 * time.Millisecond, Debounce: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Write the new version in place, in chunks 30 ms apart, as a compiler
	// might; the debounce (1 s, wide enough for a loaded machine) must wait
	// for the last one.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(v2); i += len(v2) / 4 {
		f.Write(v2[i:min(i+len(v2)/4, len(v2))])
		f.Sync()
		time.Sleep(30 * time.Millisecond)
	}
	f.Close()
	ev := nextEvent(t, w)
	if ev.Err != nil {
		t.Fatalf("reload of a file written in chunks: %v (debounce should wait for the last one)", ev.Err)
	}
	if got := version(t, rt, h); got != "v2" {
		t.Fatalf("got %q", got)
	}
}

func TestWatchStopsWithContext(t *testing.T) {
	p := modtest.Path(t, "version_v1")
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := hotreload.Watch(ctx, rt, h, p, hotreload.WatchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-w.Events():
		if ok {
			t.Fatal("unexpected event")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watcher did not stop when its context was cancelled")
	}
	if _, err := hotreload.Watch(context.Background(), rt, h, filepath.Join(t.TempDir(), "absent.so"), hotreload.WatchConfig{}); err == nil {
		t.Fatal("Watch of a missing file succeeded")
	}
}

// sameSize pads the shorter of two modules with trailing bytes (which the
// loader ignores) so that both have one size.
func sameSize(a, b []byte) ([]byte, []byte) {
	n := max(len(a), len(b))
	return append(a, make([]byte, n-len(a))...), append(b, make([]byte, n-len(b))...)
}

func loadAt(t *testing.T, rt *memlink.Runtime, p string, content []byte) memlink.Handle {
	t.Helper()
	if err := os.WriteFile(p, content, 0o755); err != nil {
		t.Fatal(err)
	}
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func noMoreEvents(t *testing.T, w *hotreload.Watcher, d time.Duration) {
	t.Helper()
	select {
	case ev := <-w.Events():
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// A rebuild in place whose writer pauses longer than the debounce period
// (a linker on a loaded machine) leaves a stable, incomplete file for a
// while: that is pending, not a failed reload, and no rollback is counted.
func TestWatchInPlaceRebuildIsNoFalseRollback(t *testing.T) {
	v1, _ := os.ReadFile(modtest.Path(t, "version_v1"))
	v2, _ := os.ReadFile(modtest.Path(t, "version_v2"))
	p := filepath.Join(t.TempDir(), "pricing"+filepath.Ext(modtest.Path(t, "echo")))
	rt := memlink.New()
	defer rt.Close()
	h := loadAt(t, rt, p, v1)
	const debounce = 50 * time.Millisecond
	w, err := hotreload.Watch(context.Background(), rt, h, p, hotreload.WatchConfig{
		Interval: 20 * time.Millisecond, Debounce: debounce, Settle: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	// Three pieces with pauses of eight debounce periods between them.
	third := len(v2) / 3
	for i, piece := range [][]byte{v2[:third], v2[third : 2*third], v2[2*third:]} {
		if i > 0 {
			time.Sleep(8 * debounce)
		}
		if _, err := f.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	ev := nextEvent(t, w)
	if ev.Err != nil || ev.Report.Result != hotreload.ResultOK {
		t.Fatalf("first event after an in-place rebuild = %+v, want the successful reload", ev)
	}
	if got := version(t, rt, h); got != "v2" {
		t.Fatalf("got %q", got)
	}
	for _, m := range rt.Stats().Modules {
		if n := m.Reloads[string(hotreload.ResultRolledBack)]; n != 0 {
			t.Fatalf("%d rolled-back reloads counted for an in-place rebuild", n)
		}
	}
	noMoreEvents(t, w, 10*debounce)
}

// cp -p rewrites a file and puts its modification time back; with the same
// size only the status-change time tells the versions apart.
func TestWatchSeesRewriteWithSameSizeAndTime(t *testing.T) {
	v1, _ := os.ReadFile(modtest.Path(t, "version_v1"))
	v2, _ := os.ReadFile(modtest.Path(t, "version_v2"))
	v1, v2 = sameSize(v1, v2)
	p := filepath.Join(t.TempDir(), "mod"+filepath.Ext(modtest.Path(t, "echo")))
	rt := memlink.New()
	defer rt.Close()
	h := loadAt(t, rt, p, v1)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hotreload.Watch(context.Background(), rt, h, p, hotreload.WatchConfig{
		Interval: 20 * time.Millisecond, Debounce: 30 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	time.Sleep(20 * time.Millisecond) // the clock moves past the first write
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(v2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, w)
	if ev.Err != nil {
		t.Fatalf("event %+v", ev)
	}
	if got := version(t, rt, h); got != "v2" {
		t.Fatalf("got %q after a same-size, same-time rewrite", got)
	}
}

// A symbolic link switched to another target is a new version.
func TestWatchFollowsSymlinkSwitch(t *testing.T) {
	dir := t.TempDir()
	ext := filepath.Ext(modtest.Path(t, "echo"))
	for _, v := range []string{"version_v1", "version_v2"} {
		b, _ := os.ReadFile(modtest.Path(t, v))
		if err := os.WriteFile(filepath.Join(dir, v+ext), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "current"+ext)
	if err := os.Symlink(filepath.Join(dir, "version_v1"+ext), link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if _, err := os.Stat(link); err != nil {
		t.Skipf("symbolic links cannot be followed here (Wine): %v", err)
	}
	if err := os.Symlink(link, link+".probe"); err == nil {
		if err := os.Rename(link+".probe", filepath.Join(dir, "probe")); err != nil {
			t.Skipf("symbolic links cannot be renamed here (Wine): %v", err)
		}
	}
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(link))
	if err != nil {
		t.Fatal(err)
	}
	w, err := hotreload.Watch(context.Background(), rt, h, link, hotreload.WatchConfig{
		Interval: 20 * time.Millisecond, Debounce: 30 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tmp := link + ".new"
	if err := os.Symlink(filepath.Join(dir, "version_v2"+ext), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil { // ln -sfn, atomically
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Err != nil {
		t.Fatalf("event %+v", ev)
	}
	if got := version(t, rt, h); got != "v2" {
		t.Fatalf("got %q", got)
	}
	noMoreEvents(t, w, 300*time.Millisecond)
}
