package memlink_test

import (
	"encoding/binary"
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

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

func reload(t testing.TB, rt *memlink.Runtime, h memlink.Handle, path string, cfg hotreload.Config) hotreload.Report {
	t.Helper()
	rep, err := rt.Reload(h, memlink.MustParseRef(path), cfg)
	if err != nil {
		t.Fatalf("Reload(%s): %v", filepath.Base(path), err)
	}
	return rep
}

func TestReloadKeepsHandle(t *testing.T) {
	rt, h := load(t, "version_v1")
	if got := call(t, rt, h, "version", ""); got != "v1" {
		t.Fatal(got)
	}
	rep := reload(t, rt, h, modtest.Path(t, "version_v2"), hotreload.Config{})
	if got := call(t, rt, h, "version", ""); got != "v2" {
		t.Fatalf("after reload: %q", got)
	}
	if rep.Generation != 2 || rep.Result != hotreload.ResultOK || rep.Drained != 0 || rep.Duration <= 0 ||
		rep.Switch <= 0 || rep.Switch > rep.Duration {
		t.Fatalf("report = %+v", rep)
	}
	u, _ := rt.Usage(h)
	if u.Generation != 2 || u.Reloads["ok"] != 1 || u.Calls != 2 {
		t.Fatalf("usage = %+v", u)
	}
	if p, _ := rt.Path(h); !strings.Contains(p, "version_v2") {
		t.Fatalf("Path = %s", p)
	}
	st := rt.Stats()
	if st.Modules[0].Reloads["ok"] != 1 || st.ReloadDuration.Count() != 1 {
		t.Fatalf("stats: %+v, %+v", st.Modules[0].Reloads, st.ReloadDuration)
	}
}

// TestReloadSamePathLoadsNewCode rebuilds a module in place (a new file
// renamed over the old) and reloads from the same path.
func TestReloadSamePathLoadsNewCode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "business"+filepath.Ext(modtest.Path(t, "echo")))
	mustCopy(t, modtest.Path(t, "version_v1"), p)
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"v2", "v1", "v2"} {
		mustCopy(t, modtest.Path(t, "version_"+want), p+".tmp")
		if err := os.Rename(p+".tmp", p); err != nil {
			t.Fatal(err)
		}
		reload(t, rt, h, p, hotreload.Config{})
		if got := call(t, rt, h, "version", ""); got != want {
			t.Fatalf("reload %d from the same path answers %q, want %q", i, got, want)
		}
	}
}

func mustCopy(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestReloadHammer reloads a module hundreds of times, alternating two
// versions, while 8 goroutines call it: no call fails, every answer comes
// from one of the versions, and a call made after Reload returns answers
// the new version.
func TestReloadHammer(t *testing.T) {
	reloads := 500
	if testing.Short() {
		reloads = 100
	}
	v1, v2 := modtest.Path(t, "version_v1"), modtest.Path(t, "version_v2")
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(v1))
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var calls, failures atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			buf := make([]byte, 0, 16)
			for !stop.Load() {
				out, err := rt.CallAppend(buf[:0], h, "version", nil)
				calls.Add(1)
				// A service is not a busy loop: yield so the reloading
				// goroutine is not starved of the 2 CPUs by 8 callers.
				runtime.Gosched()
				if err != nil || (string(out) != "v1" && string(out) != "v2") {
					failures.Add(1)
					t.Errorf("call during reloads: %q, %v", out, err)
					return
				}
			}
		})
	}
	for i := range reloads {
		path, want := v2, "v2"
		if i%2 == 1 {
			path, want = v1, "v1"
		}
		reload(t, rt, h, path, hotreload.Config{DrainTimeout: 10 * time.Second})
		if got := call(t, rt, h, "version", ""); got != want {
			t.Fatalf("reload %d: a new call answers %q, want %q", i, got, want)
		}
	}
	stop.Store(true)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d calls failed", failures.Load(), calls.Load())
	}
	u, _ := rt.Usage(h)
	if u.Generation != uint64(reloads+1) || u.Reloads["ok"] != uint64(reloads) {
		t.Fatalf("usage after %d reloads: %+v", reloads, u)
	}
	if u.Calls != uint64(calls.Load())+uint64(reloads) {
		t.Fatalf("call count %d, want %d", u.Calls, calls.Load()+int64(reloads))
	}
	if seesMappings {
		// Only the current version is still mapped.
		if n := mappedFiles(t, filepath.Base(v1)) + mappedFiles(t, filepath.Base(v2)); n != 1 {
			t.Fatalf("%d private copies mapped after the reloads, want 1", n)
		}
	}
}

// TestReloadHammerOutputs reloads echo while goroutines call it, more of
// them than the gate has lanes (so that calls also run on spare lanes),
// each with its own payload, and checks every output byte: a reload
// returns once the old calls have left C, and frees their call buffers
// only after they have left the gate, so a buffer freed or reused early
// would show as a wrong output or a fault.
func TestReloadHammerOutputs(t *testing.T) {
	reloads := 200
	if testing.Short() {
		reloads = 40
	}
	rt := memlink.New(memlink.WithLanes(4))
	defer rt.Close()
	ref := memlink.MustParseRef(modtest.Path(t, "echo"))
	h, err := rt.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var calls atomic.Int64
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Go(func() {
			in := make([]byte, 200+g)
			for i := range in {
				in[i] = byte('a' + (g+i)%26)
			}
			buf := make([]byte, 0, len(in))
			for !stop.Load() {
				out, err := rt.CallAppend(buf[:0], h, "echo", in)
				calls.Add(1)
				if err != nil || string(out) != string(in) {
					t.Errorf("goroutine %d: call during reloads: %d bytes, %v", g, len(out), err)
					return
				}
				runtime.Gosched() // leave the reloading goroutine some CPU
			}
		})
	}
	for range reloads {
		if _, err := rt.Reload(h, ref, hotreload.Config{DrainTimeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	// Old versions may still be releasing in the background: their calls
	// count all the same.
	if u, _ := rt.Usage(h); u.Calls != uint64(calls.Load()) || u.InFlight != 0 {
		t.Errorf("usage after the reloads: %d calls, %d in flight; want %d and 0", u.Calls, u.InFlight, calls.Load())
	}
	if err := rt.Unload(h); err != nil {
		t.Fatalf("Unload: %v", err)
	}
	t.Logf("%d calls across %d reloads", calls.Load(), reloads)
}

// mappedFiles counts the distinct private copies named base mapped now.
func mappedFiles(t testing.TB, base string) int {
	seen := map[string]bool{}
	for _, m := range mapsOf(t, base) {
		if m.private {
			seen[m.key] = true
		}
	}
	return len(seen)
}

// TestStatefulReloadLosesNoUpdate increments a counter from 4 goroutines
// while it is reloaded 50 times with its state carried across.
func TestStatefulReloadLosesNoUpdate(t *testing.T) {
	const total, reloads = 10000, 50
	a, b := modtest.Path(t, "counter"), modtest.Path(t, "counter")
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(a))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			buf := make([]byte, 0, 32)
			for range total / 4 {
				if _, err := rt.CallAppend(buf[:0], h, "increment", nil); err != nil {
					t.Errorf("increment during reloads: %v", err)
					return
				}
			}
		})
	}
	var stateBytes int
	for i := range reloads {
		p := a
		if i%2 == 0 {
			p = b
		}
		rep := reload(t, rt, h, p, hotreload.Config{PreserveState: true, DrainTimeout: 10 * time.Second})
		stateBytes = rep.StateBytes
	}
	wg.Wait()
	if got := call(t, rt, h, "get", ""); got != fmt.Sprint(total) {
		t.Fatalf("count after %d stateful reloads = %s, want %d", reloads, got, total)
	}
	if stateBytes != 8 {
		t.Fatalf("StateBytes = %d, want 8", stateBytes)
	}
}

// TestReloadRollsBack tries every way a new version can be bad: the old
// version must keep serving with its state intact.
func TestReloadRollsBack(t *testing.T) {
	dir := t.TempDir()
	ext := filepath.Ext(modtest.Path(t, "echo"))
	text := filepath.Join(dir, "text"+ext)
	os.WriteFile(text, []byte("not a library"), 0o644)
	wrongArch := filepath.Join(dir, "arch"+ext)
	b, _ := os.ReadFile(modtest.Path(t, "counter"))
	if runtime.GOOS == "linux" {
		other := uint16(183)
		if runtime.GOARCH == "arm64" {
			other = 62
		}
		binary.LittleEndian.PutUint16(b[18:], other)
	} else {
		b = b[:100]
	}
	os.WriteFile(wrongArch, b, 0o644)

	cases := []struct {
		name     string
		path     string
		stateful bool
		want     error
	}{
		{"missing file", filepath.Join(dir, "absent"+ext), false, memlink.ErrNotFound},
		{"text file", text, false, memlink.ErrInvalidModule},
		{"wrong arch", wrongArch, false, memlink.ErrInvalidModule},
		{"init fails", modtest.Path(t, "initfail"), false, memlink.ErrInitFailed},
		{"missing symbol", modtest.Path(t, "missing"), false, memlink.ErrMissingSymbol},
		{"no state exports", modtest.Path(t, "version_v2"), true, hotreload.ErrStateUnsupported},
		{"restore fails", modtest.Path(t, "counter_badrestore"), true, hotreload.ErrStateTransfer},
	}
	rt, h := load(t, "counter")
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			call(t, rt, h, "increment", "")
			rep, err := rt.Reload(h, memlink.MustParseRef(c.path), hotreload.Config{PreserveState: c.stateful})
			if !errors.Is(err, c.want) {
				t.Fatalf("Reload = %v, want %v", err, c.want)
			}
			if rep.Result != hotreload.ResultRolledBack || rep.Generation != 1 {
				t.Fatalf("report = %+v", rep)
			}
			if !strings.Contains(err.Error(), "rolled back") {
				t.Errorf("error does not say it rolled back: %v", err)
			}
			if got := call(t, rt, h, "get", ""); got != fmt.Sprint(i+1) {
				t.Fatalf("old version answers %q after the failed reload, want %d", got, i+1)
			}
		})
	}
	st := rt.Stats().Modules[0]
	if st.Reloads["rolled_back"] != uint64(len(cases)) || st.Generation != 1 {
		t.Fatalf("stats after rollbacks: %+v", st)
	}
	// After all that, a good reload still works and keeps the count.
	reload(t, rt, h, modtest.Path(t, "counter"), hotreload.Config{PreserveState: true})
	if got := call(t, rt, h, "get", ""); got != fmt.Sprint(len(cases)) {
		t.Fatalf("count after a good stateful reload = %q", got)
	}
}

// slowCall starts a call that sleeps ms milliseconds in the module and
// waits until it is in flight; the result arrives on the channel.
func slowCall(t *testing.T, rt *memlink.Runtime, h memlink.Handle, ms int) <-chan string {
	t.Helper()
	before, _ := rt.Usage(h)
	done := make(chan string, 1)
	go func() {
		out, err := rt.Call(h, "sleep", []byte(fmt.Sprint(ms)))
		if err != nil {
			done <- err.Error()
			return
		}
		done <- string(out)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, _ := rt.Usage(h)
		if u.InFlight > before.InFlight {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatal("slow call never showed as in flight")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStatelessReloadDrainTimeout(t *testing.T) {
	rt, h := load(t, "sleep")
	oldPath, _ := rt.Path(h)
	done := slowCall(t, rt, h, 2000)
	start := time.Now()
	rep, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "sleep")), hotreload.Config{DrainTimeout: 50 * time.Millisecond})
	if !errors.Is(err, hotreload.ErrDrainTimeout) || !errors.Is(err, memlink.ErrDrainTimeout) {
		t.Fatalf("Reload = %v, want ErrDrainTimeout", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("Reload took %v with a 50ms drain timeout", d)
	}
	if rep.Result != hotreload.ResultDrainTimeout || rep.Generation != 2 || rep.Drained != 1 {
		t.Fatalf("report = %+v", rep)
	}
	// The handle switched before the drain began: the wait is not downtime.
	if rep.Switch <= 0 || rep.Switch >= rep.Duration-40*time.Millisecond {
		t.Errorf("switched after %v of %v", rep.Switch, rep.Duration)
	}
	// The new version serves new calls at once.
	if got := call(t, rt, h, "echo", "new"); got != "new" {
		t.Fatal(got)
	}
	if got := <-done; got != "slept" {
		t.Fatalf("the slow call returned %q", got)
	}
	if seesMappings {
		// Both versions' private copies were mapped; once the slow call has
		// returned only the new one is.
		deadline := time.Now().Add(5 * time.Second)
		for mappedFiles(t, filepath.Base(oldPath)) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%d copies mapped after the old version's last call returned", mappedFiles(t, filepath.Base(oldPath)))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if st := rt.Stats().Modules[0]; st.Reloads["drain_timeout"] != 1 {
		t.Fatalf("reload results: %v", st.Reloads)
	}
}

func TestStatefulReloadHoldsCalls(t *testing.T) {
	rt, h := load(t, "counter")
	// A slow call keeps the old version busy while the reload waits for
	// it; the increments that arrive meanwhile are held, then run on the
	// new version with the carried state.
	slow := slowCall(t, rt, h, 200)
	var wg sync.WaitGroup
	results := make(chan string, 16)
	reloaded := make(chan hotreload.Report, 1)
	next := modtest.Path(t, "counter")
	go func() {
		rep, err := rt.Reload(h, memlink.MustParseRef(next), hotreload.Config{PreserveState: true})
		if err != nil {
			t.Errorf("stateful reload: %v", err)
		}
		reloaded <- rep
	}()
	time.Sleep(20 * time.Millisecond) // the reload is now holding calls
	for range 16 {
		wg.Go(func() {
			out, err := rt.Call(h, "increment", nil)
			if err != nil {
				results <- err.Error()
				return
			}
			results <- string(out)
		})
	}
	wg.Wait()
	close(results)
	seen := map[string]bool{}
	for r := range results {
		if seen[r] {
			t.Fatalf("two increments both answered %q: an update was lost", r)
		}
		seen[r] = true
	}
	if got := <-slow; got != "0" && got != "16" {
		t.Fatalf("slow call answered %q", got)
	}
	rep := <-reloaded
	if rep.Drained != 1 || rep.StateBytes != 8 || rep.Generation != 2 {
		t.Fatalf("report = %+v", rep)
	}
	if got := call(t, rt, h, "get", ""); got != "16" {
		t.Fatalf("count = %s, want 16", got)
	}
}

func TestStatefulDrainTimeoutRollsBack(t *testing.T) {
	rt, h := load(t, "counter")
	call(t, rt, h, "add", "41")
	slow := slowCall(t, rt, h, 400)
	rep, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "counter")),
		hotreload.Config{PreserveState: true, DrainTimeout: 50 * time.Millisecond})
	if !errors.Is(err, hotreload.ErrDrainTimeout) || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("Reload = %v, want a rolled-back ErrDrainTimeout", err)
	}
	if rep.Generation != 1 || rep.Result != hotreload.ResultDrainTimeout {
		t.Fatalf("report = %+v", rep)
	}
	// The old version serves again at once, with its state.
	if got := call(t, rt, h, "increment", ""); got != "42" {
		t.Fatalf("after rollback: %q", got)
	}
	if got := <-slow; got != "41" && got != "42" {
		t.Fatalf("slow call: %q", got)
	}
}

func TestReloadsOfOneHandleAreSerialised(t *testing.T) {
	rt, h := load(t, "version_v1")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "version_v2")), hotreload.Config{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if u, _ := rt.Usage(h); u.Generation != 5 || u.Reloads["ok"] != 4 {
		t.Fatalf("after 4 concurrent reloads: %+v", u)
	}
}

func TestUnloadDuringReload(t *testing.T) {
	rt, h := load(t, "sleep")
	done := slowCall(t, rt, h, 300)
	reloaded := make(chan error, 1)
	go func() {
		_, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "sleep")), hotreload.Config{DrainTimeout: 5 * time.Second})
		reloaded <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the reload switch and start draining
	if err := rt.Unload(h); err != nil {
		t.Fatalf("Unload during a reload: %v", err)
	}
	if err := <-reloaded; err != nil {
		t.Fatalf("the reload Unload waited for: %v", err)
	}
	if got := <-done; got != "slept" {
		t.Fatalf("slow call: %q", got)
	}
	if _, err := rt.Call(h, "echo", nil); !errors.Is(err, memlink.ErrUnknownHandle) {
		t.Fatalf("call after Unload: %v", err)
	}
	if _, err := rt.Reload(h, memlink.MustParseRef(modtest.Path(t, "sleep")), hotreload.Config{}); !errors.Is(err, memlink.ErrUnknownHandle) {
		t.Fatalf("Reload after Unload: %v", err)
	}
}

func TestPrivateCopiesAreReleased(t *testing.T) {
	p := modtest.Path(t, "echo")
	privateDirs := func() map[string]bool {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("memlink-go-%d-*", os.Getpid())))
		m := map[string]bool{}
		for _, d := range dirs {
			m[d] = true
		}
		return m
	}
	// Only this runtime's directory: other tests' runtimes in this process
	// may still hold copies of their own.
	others := privateDirs()
	rt := memlink.New()
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		reload(t, rt, h, p, hotreload.Config{})
	}
	if seesMappings {
		if n := mappedFiles(t, filepath.Base(p)); n != 1 {
			t.Fatalf("%d private copies mapped after 3 reloads, want 1 (the current version)", n)
		}
	}
	var dirs []string
	for d := range privateDirs() {
		if !others[d] {
			dirs = append(dirs, d)
		}
	}
	rt.Close()
	if seesMappings && mappedFiles(t, filepath.Base(p)) != 0 {
		t.Fatal("a private copy is still mapped after Close")
	}
	for _, d := range dirs {
		if ents, err := os.ReadDir(d); err == nil && len(ents) > 0 {
			t.Fatalf("private directory %s still holds %d entries after Close", d, len(ents))
		}
	}
}

func TestStalePrivateDirsAreRemoved(t *testing.T) {
	// A pid that cannot exist: above Linux's largest pid_max (2^22), and a
	// multiple of 4 (Windows ignores the two low bits of a pid).
	stale := filepath.Join(os.TempDir(), "memlink-go-99999996-test")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, "old.so"), []byte("x"), 0o500)
	memlink.RemoveStalePrivateDirsForTest()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		os.RemoveAll(stale)
		t.Fatalf("stale directory survived: %v", err)
	}
}
