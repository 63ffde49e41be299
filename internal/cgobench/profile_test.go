package cgobench_test

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/cgobench"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/internal/rawloader"
	"github.com/memlink/memlink-go/memlink"
)

// These benchmarks are the workloads docs/performance.md profiles ("Where
// the time goes"): each does one thing N times with nothing else in the
// loop, so that an instruction count from valgrind --tool=callgrind (or a
// pprof profile) divided by N is the cost of one operation. For example:
//
//	go test -c -o /tmp/cgobench.test ./internal/cgobench
//	GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
//	    /tmp/cgobench.test -test.run '^$' -test.bench 'CallAppend64$' -test.benchtime 200000x

func TestMain(m *testing.M) { modtest.Main(m) }

// BenchmarkCallAppend64 is the memlink side: a 64-byte CallAppend
// on the echo module with a reused destination.
func BenchmarkCallAppend64(b *testing.B) { benchCallAppend64(b, "echo", "process") }

// BenchmarkCallAppendV2_64 is BenchmarkCallAppend64 on ABI 2: the binary
// module's "echo" method through memlink_call_v2.
func BenchmarkCallAppendV2_64(b *testing.B) { benchCallAppend64(b, "binary", "echo") }

// benchCallAppend64 calls method of the test module with 64 bytes that it
// must echo, into a reused destination.
func benchCallAppend64(b *testing.B, module, method string) {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(b, module)))
	if err != nil {
		b.Fatal(err)
	}
	args := bytes.Repeat([]byte{'x'}, 64)
	dst := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		out, err := rt.CallAppend(dst[:0], h, method, args)
		if err != nil || len(out) != 64 {
			b.Fatalf("CallAppend: %d bytes, %v", len(out), err)
		}
	}
}

// BenchmarkCgo64 is the yardstick: cgo calling echo's memlink_call
// through a function pointer from a static inline C function, 64 bytes.
func BenchmarkCgo64(b *testing.B) {
	if !cgobench.Available {
		b.Skip("the cgo yardstick needs a cgo build (CGO_ENABLED=1 and a C compiler)")
	}
	lib, err := cgobench.Open(modtest.Path(b, "echo"), false, memlink.DefaultOutputCapacity)
	if err != nil {
		b.Fatal(err)
	}
	defer lib.Close()
	args := bytes.Repeat([]byte{'x'}, 64)
	id := abi.MethodID("process")
	b.ReportAllocs()
	for b.Loop() {
		if rc := lib.Call(id, args); rc != 0 {
			b.Fatalf("memlink_call returned %d", rc)
		}
	}
}

// BenchmarkLoadUnload is a Load and Unload of echo with the default
// private copy.
func BenchmarkLoadUnload(b *testing.B) {
	rt := memlink.New()
	defer rt.Close()
	ref := memlink.MustParseRef(modtest.Path(b, "echo"))
	b.ReportAllocs()
	for b.Loop() {
		h, err := rt.Load(ref)
		if err != nil {
			b.Fatal(err)
		}
		if err := rt.Unload(h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawLoadUnload is the load row's baseline: dlopen, the three
// ABI-1 dlsym and dlclose of the same file.
func BenchmarkRawLoadUnload(b *testing.B) {
	path := modtest.Path(b, "echo")
	b.ReportAllocs()
	for b.Loop() {
		lib, err := rawloader.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range []string{abi.SymInit, abi.SymCall, abi.SymShutdown} {
			if _, err := rawloader.Sym(lib, s); err != nil {
				b.Fatal(err)
			}
		}
		if err := rawloader.Close(lib); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReload100 reloads the counter module (stateless) while 100
// goroutines call it, each sleeping 1 ms inside the module and then
// incrementing, as memlink-bench's reload row does. Besides the time per
// reload it reports how long the callers' 1 ms calls took as they saw them
// (median and 99th percentile, ms) and how long each reload waited after
// the switch for the old version's calls to leave (drain-ms): the part of
// the reload spent on goroutines getting back from C into Go.
func BenchmarkReload100(b *testing.B) {
	rt := memlink.New()
	defer rt.Close()
	ref := memlink.MustParseRef(modtest.Path(b, "counter"))
	h, err := rt.Load(ref)
	if err != nil {
		b.Fatal(err)
	}
	const callers = 100
	var stop atomic.Bool
	var wg sync.WaitGroup
	lat := make([][]time.Duration, callers)
	for i := range callers {
		wg.Go(func() {
			dst := make([]byte, 0, 64)
			for !stop.Load() {
				t0 := time.Now()
				if _, err := rt.CallAppend(dst[:0], h, "sleep", []byte("1")); err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
				if _, err := rt.CallAppend(dst[:0], h, "increment", nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let every caller get going
	var drain time.Duration
	b.ResetTimer()
	for b.Loop() {
		rep, err := rt.Reload(h, ref, hotreload.Config{DrainTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		drain += rep.Duration - rep.Switch
	}
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2])/1e6, "call-p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100])/1e6, "call-p99-ms")
	}
	b.ReportMetric(float64(drain)/float64(b.N)/1e6, "drain-ms")
}
