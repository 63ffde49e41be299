package memlink_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

func TestMain(m *testing.M) { modtest.Main(m) }

// load loads module name (a private copy) into a new runtime closed at the
// end of the test.
func load(t testing.TB, name string, opts ...memlink.Option) (*memlink.Runtime, memlink.Handle) {
	t.Helper()
	rt := memlink.New(opts...)
	t.Cleanup(func() { rt.Close() })
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, name)))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return rt, h
}

func call(t testing.TB, rt *memlink.Runtime, h memlink.Handle, method, args string) string {
	t.Helper()
	out, err := rt.Call(h, method, []byte(args))
	if err != nil {
		t.Fatalf("Call(%q, %q): %v", method, args, err)
	}
	return string(out)
}

func TestQuickStartEcho(t *testing.T) {
	rt, h := load(t, "echo")
	if got := call(t, rt, h, "process", "input data"); got != "input data" {
		t.Fatalf("echo = %q, want %q", got, "input data")
	}
	// A shorter input after a longer one must not carry the longer one's tail.
	call(t, rt, h, "process", "a much longer input than before")
	if got := call(t, rt, h, "process", "short"); got != "short" {
		t.Fatalf("echo after a longer call = %q, want %q", got, "short")
	}
	if got := call(t, rt, h, "process", ""); got != "" {
		t.Fatalf("echo of nothing = %q", got)
	}
	if err := rt.Unload(h); err != nil {
		t.Fatalf("Unload: %v", err)
	}
}

func fnvHex(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}

func TestReferenceModules(t *testing.T) {
	cases := []struct{ module, args, want string }{
		{"math", "2,3", "5"},
		{"math", "-40, 2", "-38"},
		{"string", "hello, World", "HELLO, WORLD"},
		{"crypto", "input data", fnvHex("input data")},
		{"crypto", "", fnvHex("")},
	}
	for _, c := range cases {
		rt, h := load(t, c.module)
		if got := call(t, rt, h, "process", c.args); got != c.want {
			t.Errorf("%s(%q) = %q, want %q", c.module, c.args, got, c.want)
		}
	}
}

func TestMultiModuleConcurrent(t *testing.T) {
	rt := memlink.New()
	defer rt.Close()
	hs := map[string]memlink.Handle{}
	for _, name := range []string{"math", "string", "crypto"} {
		h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		hs[name] = h
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*100)
	for name, h := range hs {
		wg.Go(func() {
			for i := range 100 {
				args := fmt.Sprintf("%s_%d", name, i)
				want := map[string]string{"string": strings.ToUpper(args), "crypto": fnvHex(args)}[name]
				if name == "math" {
					args, want = fmt.Sprintf("%d,%d", i, i), fmt.Sprint(2*i)
				}
				out, err := rt.Call(h, "process", []byte(args))
				if err != nil || string(out) != want {
					errs <- fmt.Errorf("%s(%q) = %q, %v; want %q", name, args, out, err, want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(rt.Handles()); got != 3 {
		t.Fatalf("Handles() has %d entries, want 3", got)
	}
}

func TestConfigReachesInit(t *testing.T) {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "configured")), memlink.WithConfig([]byte("mode=fast")))
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, rt, h, "config", ""); got != "mode=fast" {
		t.Fatalf("config = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.so")
	os.WriteFile(text, []byte("this is a text file, not a library\n"), 0o644)

	// The echo module with its ELF machine field changed to another CPU.
	wrongArch := filepath.Join(dir, "wrongarch.so")
	b, err := os.ReadFile(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	other := uint16(183) // aarch64
	if runtime.GOARCH == "arm64" {
		other = 62 // x86-64
	}
	wrong := bytes.Clone(b)
	if runtime.GOOS == "linux" {
		binary.LittleEndian.PutUint16(wrong[18:], other)
	}
	os.WriteFile(wrongArch, wrong, 0o644)

	// A library cut off after its header: the loader refuses it.
	truncated := filepath.Join(dir, "truncated.so")
	os.WriteFile(truncated, b[:len(b)/3], 0o644)

	cases := []struct {
		name    string
		path    string
		want    error
		mention []string
	}{
		{"missing file", filepath.Join(dir, "nope.so"), memlink.ErrNotFound, []string{"nope.so"}},
		{"text file", text, memlink.ErrInvalidModule, []string{"notes.so", "not a shared library"}},
		{"truncated", truncated, memlink.ErrInvalidModule, []string{"truncated.so"}},
		{"directory", dir, memlink.ErrInvalidModule, []string{"not a regular file"}},
		{"missing symbol", modtest.Path(t, "missing"), memlink.ErrMissingSymbol, []string{"memlink_call", "missing"}},
		{"init fails", modtest.Path(t, "initfail"), memlink.ErrInitFailed, []string{"42", "initfail"}},
		{"abi version", modtest.Path(t, "abi99"), memlink.ErrABIVersion, []string{"99", "abi99"}},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases, struct {
			name    string
			path    string
			want    error
			mention []string
		}{"wrong arch", wrongArch, memlink.ErrInvalidModule, []string{"wrongarch.so", runtime.GOARCH, map[uint16]string{183: "arm64", 62: "amd64"}[other]}})
	}
	rt := memlink.New()
	defer rt.Close()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := rt.Load(memlink.MustParseRef(c.path))
			if !errors.Is(err, c.want) {
				t.Fatalf("Load = %v, %v; want %v", h, err, c.want)
			}
			if h != 0 {
				t.Fatalf("failed Load returned handle %v", h)
			}
			var le *memlink.LoadError
			if !errors.As(err, &le) || le.Ref != c.path {
				t.Fatalf("error %v is not a *LoadError for %s", err, c.path)
			}
			for _, m := range c.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), "/proc/self/fd") {
				t.Errorf("error %q names the private copy instead of the file the user gave", err)
			}
		})
	}
	if n := len(rt.Handles()); n != 0 {
		t.Fatalf("%d handles left after failed loads", n)
	}
	st := rt.Stats()
	if st.LoadErrors["not_found"] != 1 || st.LoadErrors["init_failed"] != 1 || st.LoadErrors["missing_symbol"] != 1 || st.LoadErrors["abi_version"] != 1 {
		t.Errorf("load error counts = %v", st.LoadErrors)
	}
}

func TestInitFailureClosesLibrary(t *testing.T) {
	if !seesMappings {
		t.Skip("lists the process's mappings, which this test cannot do here")
	}
	p := modtest.Path(t, "initfail")
	rt := memlink.New()
	defer rt.Close()
	if _, err := rt.Load(memlink.MustParseRef(p)); !errors.Is(err, memlink.ErrInitFailed) {
		t.Fatalf("Load = %v", err)
	}
	if n := mappings(t, p); n != 0 {
		t.Fatalf("%d mappings of %s remain after a failed init", n, p)
	}
}

func TestParseRef(t *testing.T) {
	for _, bad := range []string{"", "   ", "a\x00b"} {
		if _, err := memlink.ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) succeeded", bad)
		}
	}
	r, err := memlink.ParseRef("./my_module.so")
	if err != nil || r.String() != "./my_module.so" {
		t.Fatalf("ParseRef = %v, %v", r, err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustParseRef(\"\") did not panic")
		}
	}()
	memlink.MustParseRef("")
}

func TestUnknownHandle(t *testing.T) {
	rt, h := load(t, "echo")
	for _, bad := range []memlink.Handle{0, h + 1, h + 1<<32, ^memlink.Handle(0)} {
		if _, err := rt.Call(bad, "process", nil); !errors.Is(err, memlink.ErrUnknownHandle) {
			t.Errorf("Call(%v) = %v, want ErrUnknownHandle", bad, err)
		}
		if err := rt.Unload(bad); !errors.Is(err, memlink.ErrUnknownHandle) {
			t.Errorf("Unload(%v) = %v, want ErrUnknownHandle", bad, err)
		}
		if _, ok := rt.Usage(bad); ok {
			t.Errorf("Usage(%v) ok", bad)
		}
	}
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Call(h, "process", []byte("x")); !errors.Is(err, memlink.ErrUnknownHandle) {
		t.Fatalf("call after unload = %v", err)
	}
	if err := rt.Unload(h); !errors.Is(err, memlink.ErrUnknownHandle) {
		t.Fatalf("second unload = %v", err)
	}
	// A handle is not reused, even though its table slot is.
	h2, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")))
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Fatal("handle reused after unload")
	}
	if _, err := rt.Call(h, "process", nil); !errors.Is(err, memlink.ErrUnknownHandle) {
		t.Fatalf("stale handle reaches the new module: %v", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	rt, h := load(t, "echo")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := rt.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := rt.Call(h, "process", nil); !errors.Is(err, memlink.ErrClosed) {
		t.Fatalf("call after Close = %v, want ErrClosed", err)
	}
	if _, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo"))); !errors.Is(err, memlink.ErrClosed) {
		t.Fatalf("Load after Close = %v, want ErrClosed", err)
	}
	if len(rt.Handles()) != 0 {
		t.Fatal("handles left after Close")
	}
}

func TestCallErrors(t *testing.T) {
	rt, h := load(t, "errors")
	if got := call(t, rt, h, "ok", ""); got != "ok" {
		t.Fatalf("ok = %q", got)
	}
	cases := []struct {
		method string
		code   int32
		is     error
	}{
		{"general", -1, nil}, {"invalid", -2, nil}, {"internal", -3, nil}, {"small", -4, nil},
		{"panic", -5, memlink.ErrModulePanicked}, {"nosuchmethod", -6, memlink.ErrUnknownMethod}, {"custom", 17, nil},
	}
	for _, c := range cases {
		_, err := rt.Call(h, c.method, nil)
		var ce *memlink.CallError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: %v is not a *CallError", c.method, err)
		}
		if ce.Code != c.code || ce.Method != c.method || !strings.HasPrefix(ce.Module, "errors") {
			t.Errorf("%s: CallError = %+v", c.method, ce)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: errors.Is(%v, %v) = false", c.method, err, c.is)
		}
		if c.is == nil && (errors.Is(err, memlink.ErrModulePanicked) || errors.Is(err, memlink.ErrUnknownMethod)) {
			t.Errorf("%s: %v matches a reserved sentinel", c.method, err)
		}
	}
	// Errors do not poison the module.
	if got := call(t, rt, h, "ok", ""); got != "ok" {
		t.Fatalf("ok after errors = %q", got)
	}
	u, _ := rt.Usage(h)
	if u.Calls != uint64(len(cases)+2) {
		t.Errorf("Calls = %d, want %d", u.Calls, len(cases)+2)
	}
	st := rt.Stats().Modules[0]
	if st.Panics != 1 || st.CodeErrors != uint64(len(cases)-1) {
		t.Errorf("stats: panics %d, code errors %d", st.Panics, st.CodeErrors)
	}
}

func TestABI2ExactOutput(t *testing.T) {
	rt, h := load(t, "binary")
	in := []byte("a\x00b\x00\x00c")
	out, err := rt.Call(h, "echo", in)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("echo = %q, %v; want %q", out, err, in)
	}
	// Outputs larger than the 4 KiB buffer are retried once at their size.
	for _, n := range []int{0, 1, 4096, 4097, 1 << 20, 8 << 20} {
		var arg [8]byte
		binary.LittleEndian.PutUint64(arg[:], uint64(n))
		prefix := []byte("keep:")
		out, err := rt.CallAppend(prefix, h, "repeat", arg[:])
		if err != nil {
			t.Fatalf("repeat %d: %v", n, err)
		}
		if len(out) != len(prefix)+n || string(out[:5]) != "keep:" {
			t.Fatalf("repeat %d: got %d bytes", n, len(out))
		}
		for i, c := range out[5:] {
			if c != byte(i*31+7) {
				t.Fatalf("repeat %d: byte %d = %d", n, i, c)
			}
		}
	}
	_, err = rt.Call(h, "fail", nil)
	var ce *memlink.CallError
	if !errors.As(err, &ce) || ce.Code != 7 || ce.Message != "custom failure" {
		t.Fatalf("fail = %v", err)
	}
	_, err = rt.Call(h, "panic", nil)
	if !errors.Is(err, memlink.ErrModulePanicked) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic = %v", err)
	}
	_, err = rt.Call(h, "whatever", nil)
	if !errors.Is(err, memlink.ErrUnknownMethod) {
		t.Fatalf("unknown method = %v", err)
	}
}

func TestABI2MaxOutput(t *testing.T) {
	rt, h := load(t, "binary", memlink.WithMaxOutput(1<<16))
	var arg [8]byte
	binary.LittleEndian.PutUint64(arg[:], 1<<20)
	if _, err := rt.Call(h, "repeat", arg[:]); !errors.Is(err, memlink.ErrOutputTooLarge) {
		t.Fatalf("1 MiB output under a 64 KiB limit = %v", err)
	}
	if got := call(t, rt, h, "echo", "still fine"); got != "still fine" {
		t.Fatal(got)
	}
}

func TestLyingModuleIsQuarantined(t *testing.T) {
	rt, h := load(t, "binary")
	if _, err := rt.Call(h, "liar", nil); !errors.Is(err, memlink.ErrModuleCorrupted) {
		t.Fatalf("liar = %v, want ErrModuleCorrupted", err)
	}
	if _, err := rt.Call(h, "echo", []byte("x")); !errors.Is(err, memlink.ErrModuleCorrupted) {
		t.Fatalf("call after corruption = %v, want ErrModuleCorrupted", err)
	}
}

func TestOverflowTripsCanary(t *testing.T) {
	rt, h := load(t, "overflow")
	if got := call(t, rt, h, "process", "100"); got != strings.Repeat("A", 100) {
		t.Fatalf("in-bounds write = %d bytes", len(got))
	}
	// One byte past the buffer is enough: that is the classic off-by-one NUL.
	_, err := rt.Call(h, "process", []byte("4097"))
	if !errors.Is(err, memlink.ErrModuleCorrupted) || !strings.Contains(err.Error(), "4096") {
		t.Fatalf("overflow = %v, want ErrModuleCorrupted naming the buffer size", err)
	}
	if _, err := rt.Call(h, "process", []byte("1")); !errors.Is(err, memlink.ErrModuleCorrupted) {
		t.Fatalf("call after overflow = %v", err)
	}
	// The overrun and the quarantined call after it both count.
	if st := rt.Stats().Modules[0]; st.Corruptions != 2 {
		t.Fatalf("corruptions = %d, want 2", st.Corruptions)
	}
	// Unloading a corrupted module still works.
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
}

func TestOutputCapacityOption(t *testing.T) {
	rt, h := load(t, "overflow", memlink.WithOutputCapacity(8192))
	if got := call(t, rt, h, "process", "8000"); len(got) != 8000 {
		t.Fatalf("8000-byte write in an 8 KiB buffer = %d bytes", len(got))
	}
	if _, err := rt.Call(h, "process", []byte("8193")); !errors.Is(err, memlink.ErrModuleCorrupted) {
		t.Fatalf("overflow of 8 KiB buffer = %v", err)
	}
}

func TestSameFileTwice(t *testing.T) {
	p := modtest.Path(t, "counter")
	rt := memlink.New()
	defer rt.Close()
	load := func(opts ...memlink.LoadOption) memlink.Handle {
		h, err := rt.Load(memlink.MustParseRef(p), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// By default each load is a private copy: independent globals.
	a, b := load(), load()
	call(t, rt, a, "increment", "")
	if got := call(t, rt, b, "get", ""); got != "0" {
		t.Fatalf("second default load sees %q, want its own count 0", got)
	}
	// In place, the loader shares one image: shared globals.
	c, d := load(memlink.LoadInPlace()), load(memlink.LoadInPlace())
	if c == d {
		t.Fatal("two loads gave one handle")
	}
	call(t, rt, c, "increment", "")
	call(t, rt, c, "increment", "")
	if got := call(t, rt, d, "get", ""); got != "2" {
		t.Fatalf("second in-place handle sees %q, want the shared count 2", got)
	}
	// Unloading one in-place handle leaves the other working.
	if err := rt.Unload(c); err != nil {
		t.Fatal(err)
	}
	if got := call(t, rt, d, "increment", ""); got != "3" {
		t.Fatalf("after unloading the first handle: %q", got)
	}
	if seesMappings {
		if n := mappings(t, p); n == 0 {
			t.Fatal("in-place load does not map the file itself")
		}
	}
}

// TestRewriteInPlaceIsHarmless rewrites a loaded module's file in place
// (truncate and write, as cp does): the running private copy is unaffected.
func TestRewriteInPlaceIsHarmless(t *testing.T) {
	p := modtest.Path(t, "version_v1")
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := os.ReadFile(modtest.Path(t, "version_v2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, v2[:len(v2)/2], 0o755); err != nil {
		t.Fatal(err)
	}
	if got := call(t, rt, h, "version", ""); got != "v1" {
		t.Fatalf("after the file was rewritten: %q", got)
	}
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	rt, h := load(t, "echo")
	// Nothing of the call buffers is in use before the first call.
	if u, _ := rt.Usage(h); u.ArenaBytes != 0 {
		t.Errorf("ArenaBytes = %d before any call, want 0", u.ArenaBytes)
	}
	for range 10 {
		call(t, rt, h, "process", "x")
	}
	u, ok := rt.Usage(h)
	if !ok {
		t.Fatal("Usage not ok")
	}
	want := memlink.Usage{Calls: 10, InFlight: 0, Generation: 1,
		Reloads: map[string]uint64{"ok": 0, "rolled_back": 0, "drain_timeout": 0}}
	got := u
	got.ArenaBytes = 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Usage mismatch (-want +got):\n%s", diff)
	}
	// One goroutine's calls use one lane: one output buffer and its canary.
	if u.ArenaBytes < 4096 || u.ArenaBytes > 3*4096 {
		t.Errorf("ArenaBytes = %d after calls from one goroutine", u.ArenaBytes)
	}
	// Usage and ModuleStats say the same.
	st := rt.Stats().Modules[0]
	if st.Calls != u.Calls || st.ArenaBytes != u.ArenaBytes || st.Generation != u.Generation || !cmp.Equal(st.Reloads, u.Reloads) {
		t.Errorf("Usage %+v and ModuleStats %+v disagree", u, st)
	}
}

func TestInFlightAndDrainTimeout(t *testing.T) {
	p := modtest.Path(t, "sleep")
	rt := memlink.New(memlink.WithDrainTimeout(50 * time.Millisecond))
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(p))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		out, err := rt.Call(h, "sleep", []byte("2000"))
		if err != nil {
			done <- err.Error()
			return
		}
		done <- string(out)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, _ := rt.Usage(h)
		if u.InFlight == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("call never showed as in flight")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	err = rt.Unload(h)
	if !errors.Is(err, memlink.ErrDrainTimeout) {
		t.Fatalf("Unload with a call in flight = %v, want ErrDrainTimeout", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Unload took %v with a 50ms drain timeout", d)
	}
	if _, err := rt.Call(h, "process", nil); !errors.Is(err, memlink.ErrUnknownHandle) {
		t.Fatalf("new call after Unload = %v", err)
	}
	if got := <-done; got != "slept" {
		t.Fatalf("the call in flight returned %q", got)
	}
	if seesMappings {
		// The library is closed once the call has returned.
		deadline := time.Now().Add(5 * time.Second)
		for mappings(t, p) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("library still mapped after the last call returned")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestConcurrentCalls(t *testing.T) {
	rt, h := load(t, "math")
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			buf := make([]byte, 0, 64)
			for i := range 200 {
				out, err := rt.CallAppend(buf[:0], h, "process", fmt.Appendf(nil, "%d,%d", g, i))
				if err != nil || string(out) != fmt.Sprint(g+i) {
					t.Errorf("goroutine %d call %d: %q, %v", g, i, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if u, _ := rt.Usage(h); u.Calls != 64*200 || u.InFlight != 0 {
		t.Fatalf("usage after hammer: %+v", u)
	}
}

// TestUnloadWhileCalling races Unload against calls in flight, 100 times.
// A call on a closed library would crash the test binary; every call must
// either succeed with the right answer or fail with ErrUnknownHandle.
func TestUnloadWhileCalling(t *testing.T) {
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	p := modtest.Path(t, "sleep")
	rt := memlink.New()
	defer rt.Close()
	for round := range rounds {
		h, err := rt.Load(memlink.MustParseRef(p))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var ok, refused sync.Map
		for g := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					method, args, want := "echo", fmt.Sprintf("g%d-%d", g, i), ""
					want = args
					if i%4 == 0 {
						method, args, want = "sleep", "1", "slept"
					}
					out, err := rt.Call(h, method, []byte(args))
					if errors.Is(err, memlink.ErrUnknownHandle) {
						refused.Store(g, true)
						return
					}
					if err != nil || string(out) != want {
						t.Errorf("round %d: %s(%q) = %q, %v", round, method, args, out, err)
						return
					}
					ok.Store(g, true)
				}
			})
		}
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		if err := rt.Unload(h); err != nil {
			t.Fatalf("round %d: Unload: %v", round, err)
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	if seesMappings && mappings(t, p) != 0 {
		t.Fatal("library still mapped after the last unload")
	}
}

// TestLoadUnloadDoesNotLeak loads and unloads a module 1,000 times and
// checks the process's mappings do not grow.
func TestLoadUnloadDoesNotLeak(t *testing.T) {
	if !seesMappings {
		t.Skip("lists the process's mappings, which this test cannot do here")
	}
	p := modtest.Path(t, "echo")
	rt := memlink.New()
	defer rt.Close()
	cycle := func() {
		h, err := rt.Load(memlink.MustParseRef(p))
		if err != nil {
			t.Fatal(err)
		}
		call(t, rt, h, "process", "x")
		if err := rt.Unload(h); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		cycle()
	}
	before := totalMappings(t)
	for range 1000 {
		cycle()
	}
	after := totalMappings(t)
	if mappings(t, p) != 0 {
		t.Fatal("module still mapped")
	}
	// Allow for a few mappings the Go runtime itself may add meanwhile.
	if after > before+8 {
		t.Fatalf("mappings grew from %d to %d over 1000 load/unload cycles", before, after)
	}
}

func TestLoadDir(t *testing.T) {
	dir := modtest.Dir(t, "echo", "math", "initfail")
	os.WriteFile(filepath.Join(dir, "broken"+filepath.Ext(modtest.Path(t, "echo"))), []byte("garbage"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a module"), 0o644)
	rt := memlink.New()
	defer rt.Close()
	loaded, err := rt.LoadDir(dir)
	var de *memlink.DirError
	if !errors.As(err, &de) {
		t.Fatalf("LoadDir error = %v, want *DirError", err)
	}
	// Loaded modules by module name (as Lookup finds them), failures by
	// file name.
	if len(loaded) != 2 || loaded["echo"] == 0 || loaded["math"] == 0 {
		t.Fatalf("loaded = %v", loaded)
	}
	if h, ok := rt.Lookup("math"); !ok || h != loaded["math"] {
		t.Fatalf("Lookup(math) = %v, %v; LoadDir gave %v", h, ok, loaded["math"])
	}
	ext := filepath.Ext(modtest.Path(t, "echo"))
	if len(de.Files) != 2 || de.Files["broken"+ext] == nil || de.Files["initfail"+ext] == nil {
		t.Fatalf("failed files = %v", de.Files)
	}
	if !errors.Is(err, memlink.ErrInitFailed) || !errors.Is(err, memlink.ErrInvalidModule) {
		t.Fatalf("DirError does not unwrap to the per-file errors: %v", err)
	}
	if _, err := rt.LoadDir(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("LoadDir of a missing directory succeeded")
	}
}

func TestCallAppendDoesNotAllocate(t *testing.T) {
	for _, module := range []string{"echo", "binary"} {
		rt, h := load(t, module)
		args := bytes.Repeat([]byte("x"), 64)
		dst := make([]byte, 0, 128)
		allocs := testing.AllocsPerRun(1000, func() {
			out, err := rt.CallAppend(dst[:0], h, "echo", args)
			if err != nil || len(out) != 64 {
				t.Fatalf("CallAppend = %d bytes, %v", len(out), err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: CallAppend allocates %v times per call", module, allocs)
		}
		allocs = testing.AllocsPerRun(1000, func() { rt.Call(h, "echo", args) })
		if allocs > 1 {
			t.Errorf("%s: Call allocates %v times per call, want at most 1", module, allocs)
		}
	}
}

// TestCallArgsLeaveTheStack: arguments a caller builds on its stack are
// moved to the heap by CallAppend's signature (they escape), once per
// call, on both ABIs: a module reads them in place while it runs, and a
// callback from C into Go on the same goroutine could grow and move that
// stack. The call path does not store args anywhere to get this
// (callpath.SetCallUnkept), so the count is what shows it.
func TestCallArgsLeaveTheStack(t *testing.T) {
	for _, module := range []string{"echo", "binary"} {
		rt, h := load(t, module)
		dst := make([]byte, 0, 128)
		allocs := testing.AllocsPerRun(1000, func() {
			var args [48]byte
			for i := range args {
				args[i] = 'x'
			}
			out, err := rt.CallAppend(dst[:0], h, "echo", args[:])
			if err != nil || len(out) != len(args) {
				t.Fatalf("CallAppend = %d bytes, %v", len(out), err)
			}
		})
		if allocs != 1 {
			t.Errorf("%s: %v allocations per call, want 1 (the arguments, moved to the heap)", module, allocs)
		}
	}
}

func TestStats(t *testing.T) {
	rt := memlink.New(memlink.WithLatencySampling(1))
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		call(t, rt, h, "process", "x")
	}
	rt.Load(memlink.MustParseRef(filepath.Join(t.TempDir(), "absent.so")))
	st := rt.Stats()
	if st.Loaded != 1 || st.Loads != 1 || st.LoadErrors["not_found"] != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if st.LoadDuration.Count() != 2 {
		t.Errorf("load duration count = %d, want 2 (every load is timed)", st.LoadDuration.Count())
	}
	m := st.Modules[0]
	if m.Name != "echo" || m.Calls != 5 || m.Generation != 1 || m.Latency.Count() != 5 || m.Latency.Sum < 0 ||
		m.Latency.Sum == 0 && !coarseClock() {
		t.Fatalf("module stats = %+v", m)
	}
	rt.Unload(h)
	if st := rt.Stats(); st.Loaded != 0 || st.Unloads != 1 || len(st.Modules) != 0 {
		t.Fatalf("after unload: %+v", st)
	}
}

// mappings counts the lines of /proc/self/maps that map path or a private
// copy of it: a memfd named after it, or a file of that name in a
// memlink-go- directory.
func mappings(t testing.TB, path string) int {
	t.Helper()
	n := 0
	for _, m := range mapsOf(t, filepath.Base(path)) {
		if m.private || samePath(m.path, path) {
			n++
		}
	}
	return n
}

// samePath compares two paths of one file, ignoring case on Windows.
func samePath(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	if runtime.GOOS == "windows" {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// mapping is one file mapped into the process (a line of /proc/self/maps
// on Linux, a loaded module on Windows). key tells copies apart.
type mapping struct {
	key     string
	path    string
	private bool
}

// coarseClock reports whether the monotonic clock advances in steps longer
// than a short call (Go on Windows reads the system timer tick), in which
// case a sampled call can measure 0 and a latency sum of 0 is no error.
func coarseClock() bool {
	start := time.Now()
	for {
		if d := time.Since(start); d > 0 {
			return d > 10*time.Microsecond
		}
	}
}
