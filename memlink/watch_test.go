package memlink_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

const testDebounce = 60 * time.Millisecond

// versions returns the v1 and v2 builds of the version module padded to one
// size (trailing bytes the loader ignores), so that cp -p can keep the
// size and the modification time.
func versions(t *testing.T) (v1, v2 []byte) {
	t.Helper()
	a, err := os.ReadFile(modtest.Path(t, "version_v1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(modtest.Path(t, "version_v2"))
	if err != nil {
		t.Fatal(err)
	}
	n := max(len(a), len(b))
	return append(a, make([]byte, n-len(a))...), append(b, make([]byte, n-len(b))...)
}

func libName(name string) string { return name + abi.LibraryExt }

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// deploys are the ways a new build reaches a plugin directory. Each puts
// content at dst (whose previous content is old).
var deploys = []struct {
	name string
	put  func(t *testing.T, dst string, content []byte)
}{
	{"cp", func(t *testing.T, dst string, b []byte) { writeFile(t, dst, b) }},
	{"cc -o (slow writer in place)", func(t *testing.T, dst string, b []byte) {
		// A linker on a loaded machine: truncate, then pieces with pauses
		// longer than the debounce period.
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		third := len(b) / 3
		for i, p := range [][]byte{b[:third], b[third : 2*third], b[2*third:]} {
			if i > 0 {
				time.Sleep(3 * testDebounce)
			}
			if _, err := f.Write(p); err != nil {
				t.Fatal(err)
			}
		}
	}},
	{"rsync --inplace", func(t *testing.T, dst string, b []byte) {
		f, err := os.OpenFile(dst, os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}},
	{"mv", func(t *testing.T, dst string, b []byte) {
		tmp := dst + ".tmp"
		writeFile(t, tmp, b)
		if err := os.Rename(tmp, dst); err != nil {
			t.Fatal(err)
		}
	}},
	{"rsync", func(t *testing.T, dst string, b []byte) {
		tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".Xy12Ab")
		writeFile(t, tmp, b)
		if err := os.Rename(tmp, dst); err != nil {
			t.Fatal(err)
		}
	}},
	{"install", func(t *testing.T, dst string, b []byte) {
		if err := os.Remove(dst); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dst, b)
	}},
	{"cp -p", func(t *testing.T, dst string, b []byte) {
		fi, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dst, b)
		if err := os.Chtimes(dst, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}},
	{"ln -sfn", nil}, // set up by the test: the entries are symbolic links
}

func nextDirEvent(t *testing.T, w *memlink.DirWatcher, within time.Duration) memlink.DirEvent {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatal("watcher stopped")
		}
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
	}
	panic("unreachable")
}

func quiet(t *testing.T, w *memlink.DirWatcher, d time.Duration) {
	t.Helper()
	select {
	case ev := <-w.Events():
		t.Fatalf("unexpected event %v %s: %v", ev.Kind, ev.Name, ev.Err)
	case <-time.After(d):
	}
}

func callVersion(t *testing.T, rt *memlink.Runtime, h memlink.Handle) string {
	t.Helper()
	out, err := rt.Call(h, "version", nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// burn keeps every CPU busy until stop is called, as a build or another
// service on the machine would.
func burn() (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			x := 0
			for !done.Load() {
				for i := range 1 << 16 {
					x += i
				}
				runtime.Gosched()
			}
			_ = x
		})
	}
	return func() { done.Store(true); wg.Wait() }
}

func rolledBack(rt *memlink.Runtime) uint64 {
	var n uint64
	for _, m := range rt.Stats().Modules {
		n += m.Reloads[string(hotreload.ResultRolledBack)]
	}
	return n
}

// Every deploy style is seen exactly once, as a reload, with no false
// failure or rollback, on a quiet machine and under CPU load.
func TestWatchDirDeployStyles(t *testing.T) {
	reps := 20
	if testing.Short() {
		reps = 3
	}
	v1, v2 := versions(t)
	for _, load := range []string{"quiet", "loaded"} {
		for _, d := range deploys {
			t.Run(load+"/"+d.name, func(t *testing.T) {
				if load == "loaded" {
					defer burn()()
				}
				dir := t.TempDir()
				name := libName("pricing")
				dst := filepath.Join(dir, name)
				put := d.put
				if put == nil { // ln -sfn: versioned files, a link switched
					needSymlinks(t)
					if err := os.Mkdir(filepath.Join(dir, "builds"), 0o755); err != nil {
						t.Fatal(err)
					}
					n := 0
					put = func(t *testing.T, dst string, b []byte) {
						n++
						target := filepath.Join(dir, "builds", fmt.Sprintf("pricing-%d%s", n, filepath.Ext(dst)))
						writeFile(t, target, b)
						tmp := filepath.Join(dir, ".link.tmp")
						if err := os.Symlink(target, tmp); err != nil {
							t.Fatal(err)
						}
						if err := os.Rename(tmp, dst); err != nil {
							t.Fatal(err)
						}
					}
				}
				if d.put == nil {
					put(t, dst, v1)
				} else {
					writeFile(t, dst, v1)
				}
				rt := memlink.New()
				defer rt.Close()
				w, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{Debounce: testDebounce, Settle: 3 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				ev := nextDirEvent(t, w, 10*time.Second)
				if ev.Kind != memlink.DirAdded || ev.Name != "pricing" || ev.Err != nil {
					t.Fatalf("initial event %v %s: %v", ev.Kind, ev.Name, ev.Err)
				}
				h := ev.Handle
				for i := range reps {
					content, want := v2, "v2"
					if i%2 == 1 {
						content, want = v1, "v1"
					}
					put(t, dst, content)
					ev := nextDirEvent(t, w, 10*time.Second)
					if ev.Kind != memlink.DirReloaded || ev.Err != nil || ev.Handle != h {
						t.Fatalf("deploy %d: event %v %s (handle %v, want %v): %v", i, ev.Kind, ev.Name, ev.Handle, h, ev.Err)
					}
					if got := callVersion(t, rt, h); got != want {
						t.Fatalf("deploy %d: serving %q, want %q", i, got, want)
					}
					if got, ok := rt.Lookup("pricing"); !ok || got != h {
						t.Fatalf("Lookup = %v, %v; want %v", got, ok, h)
					}
				}
				quiet(t, w, 4*testDebounce)
				if n := rolledBack(rt); n != 0 {
					t.Fatalf("%d rolled-back reloads counted", n)
				}
			})
		}
	}
}

func TestWatchDirManyModulesConcurrently(t *testing.T) {
	v1, v2 := versions(t)
	dir := t.TempDir()
	const n = 50
	for i := range n {
		writeFile(t, filepath.Join(dir, libName(fmt.Sprintf("m%02d", i))), v1)
	}
	rt := memlink.New()
	defer rt.Close()
	w, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{Debounce: testDebounce})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range n {
		if ev := nextDirEvent(t, w, 10*time.Second); ev.Kind != memlink.DirAdded || ev.Err != nil {
			t.Fatalf("%v %s: %v", ev.Kind, ev.Name, ev.Err)
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			dst := filepath.Join(dir, libName(fmt.Sprintf("m%02d", i)))
			tmp := dst + ".tmp"
			if err := os.WriteFile(tmp, v2, 0o755); err == nil {
				_ = os.Rename(tmp, dst)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range n {
		ev := nextDirEvent(t, w, 20*time.Second)
		if ev.Kind != memlink.DirReloaded || ev.Err != nil || seen[ev.Name] {
			t.Fatalf("%v %s (seen before: %v): %v", ev.Kind, ev.Name, seen[ev.Name], ev.Err)
		}
		seen[ev.Name] = true
		if got := callVersion(t, rt, ev.Handle); got != "v2" {
			t.Fatalf("%s serves %q", ev.Name, got)
		}
	}
	quiet(t, w, 4*testDebounce)
}

func TestWatchDirRemoveAndReAdd(t *testing.T) {
	v1, v2 := versions(t)
	for _, unload := range []bool{false, true} {
		t.Run(fmt.Sprintf("unload=%v", unload), func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, libName("tax"))
			writeFile(t, dst, v1)
			rt := memlink.New()
			defer rt.Close()
			w, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{Debounce: testDebounce, Unload: unload})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			h := nextDirEvent(t, w, 10*time.Second).Handle
			if err := os.Remove(dst); err != nil {
				t.Fatal(err)
			}
			ev := nextDirEvent(t, w, 10*time.Second)
			if ev.Kind != memlink.DirRemoved || ev.Handle != h || ev.Err != nil {
				t.Fatalf("%v %v: %v", ev.Kind, ev.Handle, ev.Err)
			}
			_, serving := rt.Usage(h)
			if got, ok := rt.Lookup("tax"); serving == unload || ok == unload || (ok && got != h) {
				t.Fatalf("after removal: Usage ok=%v, Lookup %v %v (unload %v)", serving, got, ok, unload)
			}
			writeFile(t, dst, v2)
			ev = nextDirEvent(t, w, 10*time.Second)
			want := memlink.DirReloaded
			if unload {
				want = memlink.DirAdded
			}
			if ev.Kind != want || ev.Err != nil {
				t.Fatalf("re-added: %v: %v, want %v", ev.Kind, ev.Err, want)
			}
			if !unload && ev.Handle != h {
				t.Fatalf("re-added under handle %v, want the kept %v", ev.Handle, h)
			}
			if got := callVersion(t, rt, ev.Handle); got != "v2" {
				t.Fatalf("serving %q", got)
			}
			quiet(t, w, 4*testDebounce)
		})
	}
}

// A file that stays bad is reported once, after the settle period: as
// DirFailed when new, as one rollback when it replaced a good version.
func TestWatchDirFileThatStaysBad(t *testing.T) {
	v1, _ := versions(t)
	dir := t.TempDir()
	good := filepath.Join(dir, libName("good"))
	writeFile(t, good, v1)
	rt := memlink.New()
	defer rt.Close()
	const settle = 500 * time.Millisecond
	w, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{Debounce: testDebounce, Settle: settle})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := nextDirEvent(t, w, 10*time.Second).Handle

	start := time.Now()
	writeFile(t, filepath.Join(dir, libName("bad")), []byte("not a library at all"))
	ev := nextDirEvent(t, w, 10*time.Second)
	if ev.Kind != memlink.DirFailed || !errors.Is(ev.Err, memlink.ErrInvalidModule) || ev.Name != "bad" {
		t.Fatalf("%v %s: %v", ev.Kind, ev.Name, ev.Err)
	}
	if waited := time.Since(start); waited < settle {
		t.Fatalf("reported after %v, before the settle period (%v)", waited, settle)
	}
	writeFile(t, good, []byte("broken build"))
	ev = nextDirEvent(t, w, 10*time.Second)
	if ev.Kind != memlink.DirRolledBack || ev.Handle != h || !errors.Is(ev.Err, memlink.ErrInvalidModule) {
		t.Fatalf("%v %v: %v", ev.Kind, ev.Handle, ev.Err)
	}
	if got := callVersion(t, rt, h); got != "v1" {
		t.Fatalf("serving %q after a bad deploy", got)
	}
	quiet(t, w, 3*settle)
	if n := rolledBack(rt); n != 1 {
		t.Fatalf("%d rollbacks counted, want 1", n)
	}
}

// The watched path is a symbolic link to a release directory, switched to
// the next release: every module is reloaded once.
func TestWatchDirDirectorySwitchedOver(t *testing.T) {
	v1, v2 := versions(t)
	root := t.TempDir()
	for rel, b := range map[string][]byte{"r1": v1, "r2": v2} {
		if err := os.Mkdir(filepath.Join(root, rel), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"a", "b"} {
			writeFile(t, filepath.Join(root, rel, libName(m)), b)
		}
	}
	current := filepath.Join(root, "current")
	needSymlinks(t)
	if err := os.Symlink(filepath.Join(root, "r1"), current); err != nil {
		t.Fatal(err)
	}
	rt := memlink.New()
	defer rt.Close()
	w, err := rt.WatchDir(context.Background(), current, memlink.DirWatchConfig{Debounce: testDebounce})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 2 {
		nextDirEvent(t, w, 10*time.Second)
	}
	tmp := filepath.Join(root, "current.tmp")
	if err := os.Symlink(filepath.Join(root, "r2"), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, current); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ev := nextDirEvent(t, w, 10*time.Second)
		if ev.Kind != memlink.DirReloaded || ev.Err != nil {
			t.Fatalf("%v %s: %v", ev.Kind, ev.Name, ev.Err)
		}
		if got := callVersion(t, rt, ev.Handle); got != "v2" {
			t.Fatalf("%s serves %q", ev.Name, got)
		}
	}
	quiet(t, w, 4*testDebounce)
}

func sumLine(b []byte, name string) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:]) + "  " + name + "\n"
}

func TestWatchDirSHA256SUMS(t *testing.T) {
	v1, v2 := versions(t)
	dir := t.TempDir()
	listed, wrong, unlisted := libName("listed"), libName("wrong"), libName("unlisted")
	writeFile(t, filepath.Join(dir, listed), v1)
	writeFile(t, filepath.Join(dir, wrong), v1)
	writeFile(t, filepath.Join(dir, unlisted), v1)
	writeFile(t, filepath.Join(dir, memlink.SumsFile), []byte("# release 1\n"+sumLine(v1, listed)+sumLine(v2, wrong)))
	// Old enough to count as settled at start.
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{listed, wrong, unlisted} {
		os.Chtimes(filepath.Join(dir, f), old, old)
	}
	rt := memlink.New()
	defer rt.Close()
	w, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{Debounce: testDebounce})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got := map[string]memlink.DirEvent{}
	for range 3 {
		ev := nextDirEvent(t, w, 10*time.Second)
		got[ev.Name] = ev
	}
	if ev := got["listed"]; ev.Kind != memlink.DirAdded || ev.Err != nil {
		t.Fatalf("listed: %v: %v", ev.Kind, ev.Err)
	}
	var de *memlink.DigestError
	if ev := got["wrong"]; ev.Kind != memlink.DirFailed || !errors.As(ev.Err, &de) {
		t.Fatalf("wrong digest: %v: %v", ev.Kind, ev.Err)
	}
	if ev := got["unlisted"]; ev.Kind != memlink.DirFailed || !errors.Is(ev.Err, memlink.ErrNotListed) || !errors.Is(ev.Err, memlink.ErrDigestMismatch) {
		t.Fatalf("unlisted: %v: %v", ev.Kind, ev.Err)
	}
	// A deploy that writes the module before the list: pending, then loaded.
	h := got["listed"].Handle
	writeFile(t, filepath.Join(dir, listed), v2)
	time.Sleep(3 * testDebounce)
	writeFile(t, filepath.Join(dir, memlink.SumsFile), []byte(sumLine(v2, listed)))
	ev := nextDirEvent(t, w, 10*time.Second)
	if ev.Kind != memlink.DirReloaded || ev.Err != nil || ev.Handle != h {
		t.Fatalf("module then list: %v: %v", ev.Kind, ev.Err)
	}
	if got := callVersion(t, rt, h); got != "v2" {
		t.Fatalf("serving %q", got)
	}
}

func TestWatchDirCloseStopsEverything(t *testing.T) {
	v1, _ := versions(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, libName("a")), v1)
	rt := memlink.New()
	defer rt.Close()
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := rt.WatchDir(ctx, dir, memlink.DirWatchConfig{Debounce: testDebounce})
	if err != nil {
		t.Fatal(err)
	}
	w2, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{Debounce: testDebounce, Load: []memlink.LoadOption{memlink.WithName("a2")}})
	if err == nil {
		w2.Close()
	}
	cancel()
	for range w.Events() { // drains, then ends: the context stopped it
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("%d goroutines after Close, %d before WatchDir", n, base)
	}
	if _, err := rt.WatchDir(context.Background(), filepath.Join(dir, "absent"), memlink.DirWatchConfig{}); err == nil {
		t.Fatal("WatchDir of a missing directory succeeded")
	}
}

func TestLookupAndWithName(t *testing.T) {
	rt := memlink.New()
	defer rt.Close()
	p := modtest.Path(t, "echo")
	h1, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := rt.Lookup("echo"); !ok || got != h1 {
		t.Fatalf("Lookup(echo) = %v %v", got, ok)
	}
	h2, err := rt.Load(memlink.MustParseRef(p), memlink.WithName("echo-b"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := rt.Lookup("echo-b"); !ok || got != h2 {
		t.Fatalf("Lookup(echo-b) = %v %v", got, ok)
	}
	h3, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rt.Lookup("echo"); got != h3 {
		t.Fatalf("Lookup(echo) = %v, want the one loaded last (%v)", got, h3)
	}
	rt.Unload(h3)
	if got, _ := rt.Lookup("echo"); got != h1 {
		t.Fatalf("after unloading the newest: %v, want %v", got, h1)
	}
	if _, ok := rt.Lookup("absent"); ok {
		t.Fatal("Lookup of an unknown name succeeded")
	}
	for _, bad := range []string{"", "has space", "new\nline", strings.Repeat("x", 129)} {
		if _, err := rt.Load(memlink.MustParseRef(p), memlink.WithName(bad)); err == nil {
			t.Fatalf("WithName(%q) loaded", bad)
		}
	}
	if m := rt.Stats().Modules; len(m) == 0 {
		t.Fatal("no module stats")
	}
}

func ExampleRuntime_WatchDir() {
	dir, _ := os.MkdirTemp("", "plugins")
	defer os.RemoveAll(dir)
	echo, _ := os.ReadFile(modulePath("echo"))
	_ = os.WriteFile(filepath.Join(dir, "pricing"+filepath.Ext(modulePath("echo"))), echo, 0o755)

	rt := memlink.New()
	defer rt.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dw, err := rt.WatchDir(ctx, dir, memlink.DirWatchConfig{Unload: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dw.Close()
	ev := <-dw.Events() // the modules already there are loaded at start
	fmt.Println(ev.Kind, ev.Name, ev.Err)

	h, ok := rt.Lookup("pricing") // the handle serving pricing.so now
	out, _ := rt.Call(h, "process", []byte("quote"))
	fmt.Println(ok, string(out))
	// Output:
	// added pricing <nil>
	// true quote
}

// needSymlinks skips a test where symbolic links cannot be made, followed
// and renamed over one another (Windows without the privilege, Wine, whose
// links cannot be followed by the programs it runs).
func needSymlinks(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	writeFile(t, target, []byte("x"))
	link, tmp := filepath.Join(dir, "link"), filepath.Join(dir, "tmp")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if _, err := os.Stat(link); err != nil {
		t.Skipf("symbolic links cannot be followed here: %v", err)
	}
	if err := os.Symlink(target, tmp); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Skipf("symbolic links cannot be renamed over each other here: %v", err)
	}
}

// A listed file over the runtime's maximum module size is refused, and the
// readiness check does not hash it to its end.
func TestWatchDirTooLargeListedFile(t *testing.T) {
	v1, _ := versions(t)
	dir := t.TempDir()
	name := libName("big")
	writeFile(t, filepath.Join(dir, name), v1)
	writeFile(t, filepath.Join(dir, memlink.SumsFile), []byte(sumLine(v1, name)))
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, name), old, old)
	rt := memlink.New(memlink.WithMaxModuleSize(int64(len(v1) / 2)))
	defer rt.Close()
	w, err := rt.WatchDir(context.Background(), dir, memlink.DirWatchConfig{Debounce: testDebounce})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ev := nextDirEvent(t, w, 10*time.Second)
	if ev.Kind != memlink.DirFailed || !errors.Is(ev.Err, memlink.ErrModuleTooLarge) {
		t.Fatalf("%v: %v, want DirFailed with ErrModuleTooLarge", ev.Kind, ev.Err)
	}
}
