package rust_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modbuild"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// EnvRequireRust makes a missing Rust toolchain fail the tests instead of
// skipping them (.ci/run sets it).
const EnvRequireRust = "MEMLINK_REQUIRE_RUST"

func TestMain(m *testing.M) { modtest.Main(m) }

var (
	buildOnce sync.Once
	buildRep  modbuild.Report
	buildErr  error
	noRust    error // why there is no toolchain, when there is none
)

// built builds every Rust module once per test binary into the persistent
// cache (cargo's incremental cache lives there too).
func built() (modbuild.Report, error, error) {
	buildOnce.Do(func() {
		tc, err := modbuild.FindRust()
		if err == nil {
			err = tc.HasTarget(modbuild.HostTarget())
		}
		if err != nil {
			noRust = err
			return
		}
		dir, err := modbuild.DefaultRustCacheDir()
		if err != nil {
			dir = filepath.Join(os.TempDir(), "memlink-go-rust")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		buildRep, buildErr = modbuild.BuildRust(ctx, dir, modbuild.HostTarget())
	})
	return buildRep, buildErr, noRust
}

// rustModule returns a private copy of Rust module name in t.TempDir():
// prebuilt from MEMLINK_TEST_MODULES, else built with cargo. Without a
// toolchain the test skips, or fails under MEMLINK_REQUIRE_RUST.
func rustModule(t testing.TB, name string) string {
	t.Helper()
	file := modbuild.HostTarget().FileName(name)
	var src string
	if pre := os.Getenv(modtest.EnvModules); pre != "" {
		src = filepath.Join(pre, file)
		if _, err := os.Stat(src); err != nil {
			missing(t, fmt.Errorf("%s=%s has no %s (build it with modbuild.BuildRust): %w", modtest.EnvModules, pre, file, err))
		}
	} else {
		rep, err, none := built()
		if none != nil {
			missing(t, none)
		}
		if err != nil {
			t.Fatalf("building the Rust modules: %v", err)
		}
		src = rep.Paths[name]
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// missing skips the test for want of a Rust toolchain, or fails it when
// MEMLINK_REQUIRE_RUST is set.
func missing(t testing.TB, why error) {
	t.Helper()
	if os.Getenv(EnvRequireRust) != "" {
		t.Fatalf("%s is set but the Rust modules cannot be had: %v", EnvRequireRust, why)
	}
	t.Skipf("no Rust modules (set %s=1 to make this a failure): %v", EnvRequireRust, why)
}

func newRuntime(t testing.TB, opts ...memlink.Option) *memlink.Runtime {
	t.Helper()
	rt := memlink.New(opts...)
	t.Cleanup(func() { rt.Close() })
	return rt
}

func load(t testing.TB, rt *memlink.Runtime, path string, opts ...memlink.LoadOption) memlink.Handle {
	t.Helper()
	h, err := rt.Load(memlink.MustParseRef(path), opts...)
	if err != nil {
		t.Fatalf("Load(%s): %v", filepath.Base(path), err)
	}
	return h
}

func call(t testing.TB, rt *memlink.Runtime, h memlink.Handle, method, args string) string {
	t.Helper()
	out, err := rt.Call(h, method, []byte(args))
	if err != nil {
		t.Fatalf("Call(%q, %q): %v", method, args, err)
	}
	return string(out)
}

// echoExact checks that "process" returns every input byte for byte:
// empty, binary with NULs, the size of the output buffer, and larger ones
// (handed over).
func echoExact(t *testing.T, rt *memlink.Runtime, h memlink.Handle) {
	t.Helper()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i*31 + 7)
	}
	for _, args := range [][]byte{nil, []byte("hello"), {0, 1, 0, 255, 0}, big[:4096], big[:4097], big} {
		out, err := rt.Call(h, "process", args)
		if err != nil {
			t.Fatalf("process(%d bytes): %v", len(args), err)
		}
		if !bytes.Equal(out, args) {
			t.Fatalf("process(%d bytes) returned %d bytes, not the same", len(args), len(out))
		}
	}
}

// unknownAndPanic checks the SDK's answers for an unknown method and a
// panic.
func unknownAndPanic(t *testing.T, rt *memlink.Runtime, h memlink.Handle) {
	t.Helper()
	_, err := rt.Call(h, "nope", nil)
	if !errors.Is(err, memlink.ErrUnknownMethod) {
		t.Fatalf("unknown method: err = %v, want ErrUnknownMethod", err)
	}
	_, err = rt.Call(h, "boom", []byte("abc"))
	var ce *memlink.CallError
	if !errors.Is(err, memlink.ErrModulePanicked) || !errors.As(err, &ce) || ce.Message != "boom with 3 bytes" {
		t.Fatalf("panic: err = %v, want ErrModulePanicked with the message %q", err, "boom with 3 bytes")
	}
	if got := call(t, rt, h, "process", "after"); got != "after" {
		t.Fatalf("after the panic: %q", got)
	}
}

func TestEcho(t *testing.T) {
	rt := newRuntime(t)
	h := load(t, rt, rustModule(t, "rust_echo"))
	echoExact(t, rt, h)
	unknownAndPanic(t, rt, h)
}

func TestPanicsAndErrors(t *testing.T) {
	rt := newRuntime(t)
	path := rustModule(t, "rust_panic")
	h := load(t, rt, path)
	var ce *memlink.CallError
	_, err := rt.Call(h, "unwrap", nil)
	if !errors.Is(err, memlink.ErrModulePanicked) || !errors.As(err, &ce) || !strings.Contains(ce.Message, "unwrap()` on a `None` value") {
		t.Fatalf("unwrap: err = %v", err)
	}
	_, err = rt.Call(h, "fail", nil)
	if !errors.As(err, &ce) || ce.Code != 17 || ce.Message != "failed on purpose" || errors.Is(err, memlink.ErrModulePanicked) {
		t.Fatalf("fail: err = %v, want code 17 and its message", err)
	}
	if got := call(t, rt, h, "ok", ""); got != "still here" {
		t.Fatalf("ok: %q", got)
	}
	// A panic in init refuses the load with code -5.
	_, err = rt.Load(memlink.MustParseRef(path), memlink.WithConfig([]byte("panic-in-init")))
	if !errors.Is(err, memlink.ErrInitFailed) || !strings.Contains(err.Error(), "-5") {
		t.Fatalf("panic in init: err = %v, want ErrInitFailed with code -5", err)
	}
}

func TestHammer(t *testing.T) {
	rt := newRuntime(t)
	h := load(t, rt, rustModule(t, "rust_echo"))
	const goroutines, each = 16, 400
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []byte
			for i := 0; i < each; i++ {
				args := []byte(fmt.Sprintf("g%d-i%d-%s", g, i, strings.Repeat("x", (g*each+i)%5000)))
				var err error
				dst, err = rt.CallAppend(dst[:0], h, "process", args)
				if err != nil || !bytes.Equal(dst, args) {
					errs <- fmt.Errorf("goroutine %d call %d: %d bytes back, %v", g, i, len(dst), err)
					return
				}
				if i%50 == 0 {
					if _, err := rt.Call(h, "boom", nil); !errors.Is(err, memlink.ErrModulePanicked) {
						errs <- fmt.Errorf("goroutine %d: boom: %v", g, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// bigCountedOnce calls the counter's "big" (a result larger than the
// output buffer) 6 times, then from 16 goroutines, and checks the count:
// every call ran the method exactly once.
func bigCountedOnce(t *testing.T, rt *memlink.Runtime, h memlink.Handle) {
	t.Helper()
	const pad = 100_000
	for i := 1; i <= 6; i++ {
		out, err := rt.Call(h, "big", []byte(strconv.Itoa(pad)))
		if err != nil {
			t.Fatal(err)
		}
		digits := strings.TrimRight(string(out), ".")
		if digits != strconv.Itoa(i) || len(out) != len(digits)+pad {
			t.Fatalf("big #%d: %d bytes starting %q: the method ran more than once per call", i, len(out), out[:min(len(out), 16)])
		}
	}
	if got := call(t, rt, h, "get", ""); got != "6" {
		t.Fatalf("count after 6 big calls = %s, want 6", got)
	}
	const goroutines, each = 16, 20
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := rt.Call(h, "big", []byte(strconv.Itoa(pad))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := call(t, rt, h, "get", ""), strconv.Itoa(6+goroutines*each); got != want {
		t.Fatalf("count after %s big calls = %s", want, got)
	}
}

func TestBigOutputCountedOnce(t *testing.T) {
	rt := newRuntime(t)
	h := load(t, rt, rustModule(t, "rust_counter"))
	bigCountedOnce(t, rt, h)
}

func reload(t *testing.T, rt *memlink.Runtime, h memlink.Handle, path string, stateful bool) {
	t.Helper()
	if _, err := rt.Reload(h, memlink.MustParseRef(path), hotreload.Config{PreserveState: stateful}); err != nil {
		t.Fatalf("Reload(%s): %v", filepath.Base(path), err)
	}
}

// counterReloads carries a count from the C counter to the Rust one, to
// a new build of the Rust one, and back to C, and checks that a stateless
// Rust module is refused a stateful reload.
func counterReloads(t *testing.T, rt *memlink.Runtime, opts ...memlink.LoadOption) {
	t.Helper()
	h := load(t, rt, modtest.Path(t, "counter"), opts...)
	for i := 0; i < 5; i++ {
		call(t, rt, h, "increment", "")
	}
	reload(t, rt, h, rustModule(t, "rust_counter"), true)
	if got := call(t, rt, h, "get", ""); got != "5" {
		t.Fatalf("Rust counter after C counter v1 = %s, want 5", got)
	}
	if got := call(t, rt, h, "increment", ""); got != "6" {
		t.Fatalf("increment = %s, want 6", got)
	}
	reload(t, rt, h, rustModule(t, "rust_counter"), true)
	if got := call(t, rt, h, "add", "10"); got != "16" {
		t.Fatalf("Rust counter v3 add 10 = %s, want 16", got)
	}
	reload(t, rt, h, modtest.Path(t, "counter"), true)
	if got := call(t, rt, h, "get", ""); got != "16" {
		t.Fatalf("C counter after the Rust one = %s, want 16", got)
	}
	// rust_echo exports no state: a stateful reload to it is refused and
	// the counter keeps serving.
	_, err := rt.Reload(h, memlink.MustParseRef(rustModule(t, "rust_echo")), hotreload.Config{PreserveState: true})
	if !errors.Is(err, hotreload.ErrStateUnsupported) {
		t.Fatalf("stateful reload to a stateless Rust module: err = %v, want ErrStateUnsupported", err)
	}
	if got := call(t, rt, h, "get", ""); got != "16" {
		t.Fatalf("after the refused reload: %s", got)
	}
}

func TestStatefulReload(t *testing.T) {
	counterReloads(t, newRuntime(t))
}
