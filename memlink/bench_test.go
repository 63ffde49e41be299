package memlink_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/cgobench"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/internal/rawloader"
	"github.com/memlink/memlink-go/memlink"
)

var payloads = []int{0, 64, 256, 1024, 4096}

// benchModules are the ABI-1 and ABI-2 echo modules with the symbol each
// one's raw baselines call.
var benchModules = []struct{ name, module, method, sym string }{
	{"abi1", "echo", "process", "memlink_call"},
	{"abi2", "binary", "echo", "memlink_call_v2"},
}

// BenchmarkCallAppend measures CallAppend with a reused destination, the
// allocation-free path, per ABI and payload size.
func BenchmarkCallAppend(b *testing.B) {
	for _, m := range benchModules {
		rt, h := load(b, m.module)
		for _, n := range payloads {
			b.Run(fmt.Sprintf("%s/%dB", m.name, n), func(b *testing.B) {
				args := bytes.Repeat([]byte{'x'}, n)
				dst := make([]byte, 0, 8192)
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if _, err := rt.CallAppend(dst[:0], h, m.method, args); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCall measures Call, which allocates the result.
func BenchmarkCall(b *testing.B) {
	for _, m := range benchModules {
		rt, h := load(b, m.module)
		b.Run(m.name+"/64B", func(b *testing.B) {
			args := bytes.Repeat([]byte{'x'}, 64)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rt.Call(h, m.method, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawSyscallN is the purego baseline: purego.SyscallN on the same
// symbol with a reused argument array and a reused output buffer, no
// bookkeeping at all.
func BenchmarkRawSyscallN(b *testing.B) {
	for _, m := range benchModules {
		p := modtest.Path(b, m.module)
		lib, err := rawloader.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		fn, err := rawloader.Sym(lib, m.sym)
		if err != nil {
			b.Fatal(err)
		}
		out := make([]byte, 8192)
		var outLen uintptr
		id := uintptr(abi.MethodID(m.method))
		for _, n := range payloads {
			b.Run(fmt.Sprintf("%s/%dB", m.name, n), func(b *testing.B) {
				args := bytes.Repeat([]byte{'x'}, n)
				argv := []uintptr{id, uintptr(unsafe.Pointer(unsafe.SliceData(args))), uintptr(n),
					uintptr(unsafe.Pointer(&out[0])), 4096, uintptr(unsafe.Pointer(&outLen))}
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					purego.SyscallN(fn, argv...)
				}
			})
		}
		rawloader.Close(lib)
	}
}

// BenchmarkCgo is the cgo yardstick: the same symbol called through a
// static C function. It needs CGO_ENABLED=1 (the library never does).
func BenchmarkCgo(b *testing.B) {
	if !cgobench.Available {
		b.Skip("cgo yardstick needs CGO_ENABLED=1")
	}
	for _, m := range benchModules {
		lib, err := cgobench.Open(modtest.Path(b, m.module), m.sym == "memlink_call_v2", 8192)
		if err != nil {
			b.Fatal(err)
		}
		id := abi.MethodID(m.method)
		for _, n := range payloads {
			b.Run(fmt.Sprintf("%s/%dB", m.name, n), func(b *testing.B) {
				args := bytes.Repeat([]byte{'x'}, n)
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					lib.Call(id, args)
				}
			})
		}
		lib.Close()
	}
}

// BenchmarkParallel calls one handle from g goroutines at once; compare
// calls/s with g=1, and with BenchmarkParallelCgo's, which shows how far
// the machine itself lets calls into C scale.
func BenchmarkParallel(b *testing.B) {
	rt, h := load(b, "echo")
	runParallel(b, func(b *testing.B) func() error {
		args := bytes.Repeat([]byte{'x'}, 64)
		dst := make([]byte, 0, 128)
		return func() error {
			_, err := rt.CallAppend(dst[:0], h, "process", args)
			return err
		}
	})
}

// BenchmarkParallelCgo is BenchmarkParallel through the cgo yardstick, each
// goroutine with its own output buffer: the scaling of bare calls into C
// on this machine, with nothing shared but the library.
func BenchmarkParallelCgo(b *testing.B) {
	if !cgobench.Available {
		b.Skip("cgo yardstick needs CGO_ENABLED=1")
	}
	path := modtest.Path(b, "echo")
	id := abi.MethodID("process")
	runParallel(b, func(b *testing.B) func() error {
		lib, err := cgobench.Open(path, false, 8192)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(lib.Close)
		args := bytes.Repeat([]byte{'x'}, 64)
		return func() error {
			lib.Call(id, args)
			return nil
		}
	})
}

// runParallel runs b.N calls spread over g goroutines for g = 1, 2, 4, 8,
// 16 and reports calls/s; newCall makes each goroutine's call (outside the
// timing).
func runParallel(b *testing.B, newCall func(*testing.B) func() error) {
	for _, g := range []int{1, 2, 4, 8, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			b.ReportAllocs()
			calls := make([]func() error, g)
			for i := range calls {
				calls[i] = newCall(b)
			}
			var wg sync.WaitGroup
			per := b.N/g + 1
			b.ResetTimer()
			for _, call := range calls {
				wg.Go(func() {
					for range per {
						if err := call(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(per*g)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkLoadUnload measures a full Load + Unload cycle (validate, copy,
// open, bind, init, drain, shutdown, close) next to the raw loader cycle:
// by default (private copy), with a pinned digest (copy and hash), and in
// place (no copy).
func BenchmarkLoadUnload(b *testing.B) {
	p := modtest.Path(b, "echo")
	b.Run("memlink", func(b *testing.B) { loadUnloadLoop(b, memlink.MustParseRef(p)) })
	b.Run("memlink-pinned", func(b *testing.B) {
		loadUnloadLoop(b, memlink.MustParseRef(p+"#sha256="+sha256File(b, p)))
	})
	b.Run("memlink-inplace", func(b *testing.B) { loadUnloadLoop(b, memlink.MustParseRef(p), memlink.LoadInPlace()) })
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lib, err := rawloader.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range []string{abi.SymInit, abi.SymCall, abi.SymShutdown} {
				if _, err := rawloader.Sym(lib, s); err != nil {
					b.Fatal(err)
				}
			}
			rawloader.Close(lib)
		}
	})
}

// loadUnloadLoop loads and unloads ref b.N times on one runtime.
func loadUnloadLoop(b *testing.B, ref memlink.Ref, opts ...memlink.LoadOption) {
	rt := memlink.New()
	defer rt.Close()
	b.ReportAllocs()
	for b.Loop() {
		h, err := rt.Load(ref, opts...)
		if err != nil {
			b.Fatal(err)
		}
		if err := rt.Unload(h); err != nil {
			b.Fatal(err)
		}
	}
}
