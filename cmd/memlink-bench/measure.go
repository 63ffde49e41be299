package main

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/cgobench"
	"github.com/memlink/memlink-go/internal/rawloader"
	"github.com/memlink/memlink-go/memlink"
	"github.com/memlink/memlink-go/observe"
)

// This file holds the measurements themselves: functions that run an
// operation for a while and return what it cost, with no printing.

// callBatch is how many calls run between two looks at the clock (or at
// the stop flag), so that reading them costs nothing per call.
const callBatch = 256

// scrapeInterval is how often the metrics row scrapes its collector.
const scrapeInterval = 10 * time.Millisecond

// lifecycle is what a loop of opens and closes measured: the total time
// spent opening (Load, or Dlopen and Dlsym) and closing (Unload, or
// Dlclose), over n cycles.
type lifecycle struct {
	open, close time.Duration
	n           int64
}

// openMicros returns the mean time of one open in µs.
func (l lifecycle) openMicros() float64 { return perOp(l.open, l.n) / 1e3 }

// closeMicros returns the mean time of one close in µs.
func (l lifecycle) closeMicros() float64 { return perOp(l.close, l.n) / 1e3 }

// cycleMicros returns the mean time of one open and close in µs.
func (l lifecycle) cycleMicros() float64 { return perOp(l.open+l.close, l.n) / 1e3 }

// perOp returns d/n in nanoseconds.
func perOp(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / float64(n)
}

// memlinkLifecycle loads and unloads ref for at least d, timing each Load
// and each Unload.
func memlinkLifecycle(rt *memlink.Runtime, ref memlink.Ref, d time.Duration) (lifecycle, error) {
	var l lifecycle
	for start := time.Now(); l.n == 0 || time.Since(start) < d; l.n++ {
		t0 := time.Now()
		h, err := rt.Load(ref)
		t1 := time.Now()
		if err != nil {
			return l, err
		}
		err = rt.Unload(h)
		t2 := time.Now()
		if err != nil {
			return l, err
		}
		l.open += t1.Sub(t0)
		l.close += t2.Sub(t1)
	}
	return l, nil
}

// rawLifecycle opens the library at path and looks up the three ABI-1
// exports, then closes it, for at least d: what Load and Unload do at the
// least, without the runtime.
func rawLifecycle(path string, d time.Duration) (lifecycle, error) {
	var l lifecycle
	syms := [...]string{abi.SymInit, abi.SymCall, abi.SymShutdown}
	for start := time.Now(); l.n == 0 || time.Since(start) < d; l.n++ {
		t0 := time.Now()
		lib, err := rawloader.Open(path)
		if err != nil {
			return l, fmt.Errorf("raw open %s: %w", path, err)
		}
		for _, s := range syms {
			if _, err := rawloader.Sym(lib, s); err != nil {
				_ = rawloader.Close(lib)
				return l, fmt.Errorf("raw lookup %s: %w", s, err)
			}
		}
		t1 := time.Now()
		err = rawloader.Close(lib)
		t2 := time.Now()
		if err != nil {
			return l, fmt.Errorf("raw close %s: %w", path, err)
		}
		l.open += t1.Sub(t0)
		l.close += t2.Sub(t1)
	}
	return l, nil
}

// callCost is what a call loop measured.
type callCost struct {
	ns     float64 // per call
	allocs float64 // heap allocations per call
	n      int64
	err    error // the call that failed, for loops that cannot return one
}

// mallocs returns the number of heap allocations so far. It stops the
// world, so it is only called outside timed loops.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// memlinkCalls calls method on h with args for at least d through
// CallAppend with a reused destination.
func memlinkCalls(rt *memlink.Runtime, h memlink.Handle, method string, args []byte, d time.Duration) (callCost, error) {
	dst := make([]byte, 0, memlink.DefaultOutputCapacity)
	m0 := mallocs()
	var n int64
	start := time.Now()
	var elapsed time.Duration
	for {
		for range callBatch {
			if _, err := rt.CallAppend(dst[:0], h, method, args); err != nil {
				return callCost{}, err
			}
		}
		n += callBatch
		if elapsed = time.Since(start); elapsed >= d {
			break
		}
	}
	m1 := mallocs()
	return callCost{ns: perOp(elapsed, n), allocs: float64(m1-m0) / float64(n), n: n}, nil
}

// memlinkCallsN makes n calls of method on h with args through CallAppend
// with a reused destination: the memlink side of the call row's rounds.
func memlinkCallsN(rt *memlink.Runtime, h memlink.Handle, method string, args []byte, n int) callCost {
	dst := make([]byte, 0, memlink.DefaultOutputCapacity)
	m0 := mallocs()
	start := time.Now()
	for range n {
		if _, err := rt.CallAppend(dst[:0], h, method, args); err != nil {
			return callCost{err: err}
		}
	}
	elapsed := time.Since(start)
	m1 := mallocs()
	return callCost{ns: perOp(elapsed, int64(n)), allocs: float64(m1-m0) / float64(n), n: int64(n)}
}

// cgoCallsN makes n calls through the cgo yardstick.
func cgoCallsN(lib *cgobench.Lib, id uint32, args []byte, n int) callCost {
	m0 := mallocs()
	start := time.Now()
	for range n {
		lib.Call(id, args)
	}
	elapsed := time.Since(start)
	m1 := mallocs()
	return callCost{ns: perOp(elapsed, int64(n)), allocs: float64(m1-m0) / float64(n), n: int64(n)}
}

// cgoThroughput calls echo's memlink_call through the cgo yardstick with a
// 64-byte payload from g goroutines, each with its own library reference
// and buffer, for d.
func cgoThroughput(path string, g int, d time.Duration) (float64, int64, error) {
	libs := make([]*cgobench.Lib, g)
	defer func() {
		for _, l := range libs {
			if l != nil {
				l.Close()
			}
		}
	}()
	for i := range libs {
		l, err := cgobench.Open(path, false, memlink.DefaultOutputCapacity)
		if err != nil {
			return 0, 0, err
		}
		libs[i] = l
	}
	id := abi.MethodID("process")
	return throughput(g, d, func(i int, stop *atomic.Bool) (int64, error) {
		args := make([]byte, 64)
		for j := range args {
			args[j] = 'x'
		}
		var n int64
		for n == 0 || !stop.Load() {
			for range callBatch {
				libs[i].Call(id, args)
			}
			n += callBatch
		}
		return n, nil
	})
}

// rawCall is a prepared call of one exported function through
// purego.SyscallN: the argument slice and the memory it points to are
// allocated once and reused by every call.
type rawCall struct {
	fn   uintptr
	argv []uintptr
	// args and out are the memory argv points to; they live on the heap
	// (their sizes are not constants) and are kept alive by the rawCall.
	args, out []byte
}

// newRawCall prepares calls of fn (memlink_call, or memlink_call_v2 when
// v2) with method id id and a payload of n bytes, writing into an output
// buffer of outCap bytes.
func newRawCall(fn uintptr, v2 bool, id uint32, n, outCap int) *rawCall {
	c := &rawCall{fn: fn, args: make([]byte, n+1)[:n], out: make([]byte, outCap+16)}
	for i := range c.args {
		c.args[i] = 'x'
	}
	argsPtr := uintptr(unsafe.Pointer(unsafe.SliceData(c.args)))
	outPtr := uintptr(unsafe.Pointer(&c.out[0]))
	if v2 {
		outLenPtr := uintptr(unsafe.Pointer(&c.out[outCap])) // 8-aligned: outCap is
		c.argv = []uintptr{uintptr(id), argsPtr, uintptr(n), outPtr, uintptr(outCap), outLenPtr}
	} else {
		c.argv = []uintptr{uintptr(id), argsPtr, uintptr(n), outPtr}
	}
	return c
}

// check makes one call and reports a non-zero result code.
func (c *rawCall) check() error {
	rc := int32(rawCallOnce(c.fn, c.argv))
	runtime.KeepAlive(c)
	if rc != 0 {
		return fmt.Errorf("raw call returned %d (%s)", rc, abi.CodeText(rc))
	}
	return nil
}

// loopN makes n calls.
func (c *rawCall) loopN(n int) callCost {
	m0 := mallocs()
	elapsed := rawCallN(c.fn, c.argv, n)
	m1 := mallocs()
	runtime.KeepAlive(c)
	return callCost{ns: perOp(elapsed, int64(n)), allocs: float64(m1-m0) / float64(n), n: int64(n)}
}

// until makes calls until stop is set and returns how many.
func (c *rawCall) until(stop *atomic.Bool) int64 {
	n := rawCallUntil(c.fn, c.argv, stop)
	runtime.KeepAlive(c)
	return n
}

// throughput runs worker on g goroutines at once for d and returns the
// calls per second they made together. Each worker calls until stop is set
// (at least one batch, so that a goroutine scheduled only after d still
// counts, with the time it took) and returns its count; the first error
// stops the measurement.
func throughput(g int, d time.Duration, worker func(i int, stop *atomic.Bool) (int64, error)) (float64, int64, error) {
	var (
		stop  atomic.Bool
		ready sync.WaitGroup
		done  sync.WaitGroup
		start = make(chan struct{})
		total atomic.Int64
		mu    sync.Mutex
		first error
	)
	for i := range g {
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-start
			n, err := worker(i, &stop)
			total.Add(n)
			if err != nil {
				stop.Store(true)
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	time.Sleep(d)
	stop.Store(true)
	done.Wait()
	elapsed := time.Since(t0)
	if first != nil {
		return 0, total.Load(), first
	}
	return float64(total.Load()) / elapsed.Seconds(), total.Load(), nil
}

// memlinkThroughput calls "process" with a 64-byte payload from one
// goroutine per handle in hs (a handle may repeat) for d.
func memlinkThroughput(rt *memlink.Runtime, hs []memlink.Handle, d time.Duration) (float64, int64, error) {
	return throughput(len(hs), d, func(i int, stop *atomic.Bool) (int64, error) {
		args := make([]byte, 64)
		for j := range args {
			args[j] = 'x'
		}
		dst := make([]byte, 0, 128)
		h := hs[i]
		var n int64
		for n == 0 || !stop.Load() {
			for range callBatch {
				if _, err := rt.CallAppend(dst[:0], h, "process", args); err != nil {
					return n, err
				}
			}
			n += callBatch
		}
		return n, nil
	})
}

// rawThroughput calls fn (echo's memlink_call) with a 64-byte payload from
// g goroutines, each with its own buffers, for d.
func rawThroughput(fn uintptr, g int, d time.Duration) (float64, int64, error) {
	id := abi.MethodID("process")
	return throughput(g, d, func(_ int, stop *atomic.Bool) (int64, error) {
		return newRawCall(fn, false, id, 64, memlink.DefaultOutputCapacity).until(stop), nil
	})
}

// callers are goroutines that keep calls in flight while a reload runs.
type callers struct {
	stop       atomic.Bool
	wg         sync.WaitGroup
	increments atomic.Int64
	mu         sync.Mutex
	err        error
}

// startCallers starts g goroutines that call the counter module behind h
// until stopped: "sleep" for one millisecond inside the module (so that
// the call really is in flight when the handle switches, as a call doing
// real work would be), then "increment", which the stateful variants
// count to prove no update was lost.
func startCallers(rt *memlink.Runtime, h memlink.Handle, g int) *callers {
	c := &callers{}
	for range g {
		c.wg.Go(func() {
			dst := make([]byte, 0, 64)
			one := []byte("1")
			for !c.stop.Load() {
				if _, err := rt.CallAppend(dst[:0], h, "sleep", one); err != nil {
					c.fail(err)
					return
				}
				if _, err := rt.CallAppend(dst[:0], h, "increment", nil); err != nil {
					c.fail(err)
					return
				}
				c.increments.Add(1)
			}
		})
	}
	return c
}

func (c *callers) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// halt stops the callers and returns how many increments succeeded and
// the first error any of them saw.
func (c *callers) halt() (int64, error) {
	c.stop.Store(true)
	c.wg.Wait()
	return c.increments.Load(), c.err
}

// reloadCost is what a reload loop measured.
type reloadCost struct {
	micros  float64 // per reload
	drained float64 // mean calls in flight at the switch
	n       int64
}

// memlinkReloads reloads h from ref with rc for at least d.
func memlinkReloads(rt *memlink.Runtime, h memlink.Handle, ref memlink.Ref, rc hotreload.Config, d time.Duration) (reloadCost, error) {
	var total time.Duration
	var drained, n int64
	for start := time.Now(); n == 0 || time.Since(start) < d; n++ {
		t0 := time.Now()
		rep, err := rt.Reload(h, ref, rc)
		total += time.Since(t0)
		if err != nil {
			return reloadCost{}, err
		}
		drained += int64(rep.Drained)
	}
	return reloadCost{micros: perOp(total, n) / 1e3, drained: float64(drained) / float64(n), n: n}, nil
}

// settledRSS returns the resident set size in KB after returning the Go
// heap's free memory to the operating system, so that two readings differ
// by what was kept in between.
func settledRSS() (float64, error) {
	debug.FreeOSMemory()
	return rssKB()
}

// memlinkMemory loads ref copies times (each from its own private copy,
// memlink's default) and returns the growth of resident memory per module
// in KB. The modules are unloaded before it returns.
func memlinkMemory(rt *memlink.Runtime, ref memlink.Ref, copies int) (float64, error) {
	hs := make([]memlink.Handle, 0, copies)
	defer func() {
		for _, h := range hs {
			_ = rt.Unload(h)
		}
	}()
	before, err := settledRSS()
	if err != nil {
		return 0, err
	}
	for range copies {
		h, err := rt.Load(ref)
		if err != nil {
			return 0, err
		}
		hs = append(hs, h)
	}
	after, err := settledRSS()
	if err != nil {
		return 0, err
	}
	return (after - before) / float64(copies), nil
}

// rawMemory opens every library in paths with the raw loader and returns
// the growth of resident memory per library in KB. The libraries are
// closed before it returns.
func rawMemory(paths []string) (float64, error) {
	libs := make([]uintptr, 0, len(paths))
	defer func() {
		for _, lib := range libs {
			_ = rawloader.Close(lib)
		}
	}()
	before, err := settledRSS()
	if err != nil {
		return 0, err
	}
	for _, p := range paths {
		lib, err := rawloader.Open(p)
		if err != nil {
			return 0, fmt.Errorf("raw open %s: %w", p, err)
		}
		libs = append(libs, lib)
	}
	after, err := settledRSS()
	if err != nil {
		return 0, err
	}
	return (after - before) / float64(len(paths)), nil
}

// metricsCost is what one repetition of the metrics row measured: ns per
// call with a collector scraped every scrapeInterval and without one.
type metricsCost struct {
	with, without float64
	n             int64
}

// metricsOverhead measures 64-byte calls on h in 2*pairs windows of length
// window, half of them with a collector registered and scraped and half
// without. Each pair runs its two windows in the order opposite to the
// previous pair's (without-with, with-without, ..., starting the other way
// round when flip), so that drift over the repetition weighs on both sides
// alike.
func metricsOverhead(rt *memlink.Runtime, h memlink.Handle, window time.Duration, pairs int, flip bool) (metricsCost, error) {
	args := make([]byte, 64)
	for i := range args {
		args[i] = 'x'
	}
	var with, without time.Duration
	var withN, withoutN, n int64
	for i := range 2 * pairs {
		// i/2 is the pair, i%2 the window within it.
		scraped := (i/2+i%2)%2 == 1
		if flip {
			scraped = !scraped
		}
		var stopScrape func() error
		if scraped {
			stopScrape = startScraper(rt)
		}
		c, err := memlinkCalls(rt, h, "process", args, window)
		if stopScrape != nil {
			if serr := stopScrape(); err == nil {
				err = serr
			}
		}
		if err != nil {
			return metricsCost{}, err
		}
		spent := time.Duration(c.ns * float64(c.n))
		if scraped {
			with += spent
			withN += c.n
		} else {
			without += spent
			withoutN += c.n
		}
		n += c.n
	}
	return metricsCost{with: perOp(with, withN), without: perOp(without, withoutN), n: n}, nil
}

// startScraper registers a collector for rt with a new registry and
// gathers it at once and then every scrapeInterval until the returned
// function is called, which reports the first error of a gather.
func startScraper(rt *memlink.Runtime) func() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(observe.NewCollector(rt))
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		tick := time.NewTicker(scrapeInterval)
		defer tick.Stop()
		for {
			if _, err := reg.Gather(); err != nil {
				errc <- fmt.Errorf("gathering metrics: %w", err)
				return
			}
			select {
			case <-done:
				errc <- nil
				return
			case <-tick.C:
			}
		}
	}()
	return func() error {
		close(done)
		return <-errc
	}
}

// errMismatch reports a module answering something other than expected.
var errMismatch = errors.New("unexpected output")
