package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/cgobench"
	"github.com/memlink/memlink-go/internal/rawloader"
	"github.com/memlink/memlink-go/memlink"
)

// Figures published by the Rust reference implementation, shown beside the
// nearest variant for orientation only: they come from another machine.
const (
	publishedLoad       = "92 µs"
	publishedCall       = "210 ns"
	publishedUnload     = "52 µs"
	publishedReload     = "237 µs"
	publishedConcurrent = "2.5 M/s"
	publishedMemory     = "0.7 MB"
)

// warmupCycles is how many untimed load-and-unload cycles come before the
// load and unload measurements.
const warmupCycles = 5

// memoryCopies is how many private copies the memory row loads.
const memoryCopies = 100

// reloadCallers is the number of goroutines calling during the "100 in
// flight" reload variants.
const reloadCallers = 100

// metricsPairs is how many pairs of windows, one scraped and one not, a
// repetition of the metrics row runs; each side gets -duration in total.
const metricsPairs = 4

// minMetricsWindow is the shortest window of the metrics row, long enough
// for two scrapes.
const minMetricsWindow = 20 * time.Millisecond

// Names of the baselines.
const (
	baseCgo      = "cgo"
	basePurego   = "purego"
	baseDlopen   = "dlopen"
	baseDlclose  = "dlclose"
	baseCycle    = "cycle"
	baseInProc   = "inproc"
	basePipe     = "pipe"
	baseNoScrape = "bare"
)

// fixed returns a baselines function for a row whose baselines do not
// depend on the build.
func fixed(bs ...baseline) func(*suite) []baseline {
	return func(*suite) []baseline { return bs }
}

// callBaselines are the baselines of the rows that call C: the cgo
// yardstick when this binary has it, and purego.SyscallN.
func callBaselines(unit string) func(*suite) []baseline {
	return func(s *suite) []baseline {
		var bs []baseline
		if s.cgo {
			bs = append(bs, baseline{baseCgo, unit})
		}
		return append(bs, baseline{basePurego, unit})
	}
}

// rows lists every row in the order they run.
var rows = []*row{
	{
		id: "load", unit: "µs", baselines: fixed(baseline{baseDlopen, "µs"}),
		title:    "load: µs per Load of echo (resolve, validate, private copy, open, bind, init)",
		legend:   "dlopen = Dlopen + Dlsym x3 of the same file, no runtime",
		variants: loadVariants,
	},
	{
		id: "call", unit: "ns/call", baselines: callBaselines("ns/call"), extra: "allocs",
		title: "call: ns per CallAppend, reused destination; abi1 = echo, abi2 = binary",
		legend: "cgo = a static inline C function calling the same symbol through a pointer; purego =\n" +
			"purego.SyscallN of it; interleaved in rounds of -calls calls each, ratio = median of rounds",
		reps:     func(s *suite) int { return s.cfg.rounds },
		variants: callVariants,
	},
	{
		id: "unload", unit: "µs", baselines: fixed(baseline{baseDlclose, "µs"}),
		title:    "unload: µs per Unload of echo (drain, shutdown, close)",
		legend:   "dlclose = Dlclose of a raw Dlopen",
		variants: unloadVariants,
	},
	{
		id: "reload", unit: "µs", baselines: fixed(baseline{baseCycle, "µs"}), extra: "in flight",
		title:    "reload: µs per Reload of counter; variant = kind/goroutines calling meanwhile",
		legend:   "cycle = Load + Unload of counter with the same callers running",
		variants: reloadVariants,
	},
	{
		id: "concurrent", unit: "ns/call", baselines: callBaselines("ns/call"), extra: "speed-up",
		title: "concurrent: ns per 64-byte echo call, all goroutines together (wall time / calls);\n" +
			"variant = handles/goroutines; speed-up = ns/call at 1 goroutine / ns/call here",
		legend:   "cgo, purego: the same call from as many goroutines, each with its own buffers",
		variants: concurrentVariants,
		finish:   concurrentScaling,
	},
	{
		id: "isolated", unit: "ns/call",
		baselines: fixed(baseline{baseInProc, "ns/call"}, baseline{basePipe, "ns/call"}),
		title:     "isolated: ns per CallAppend of echo in a worker process (WithIsolation)",
		legend: "inproc = the same call, module loaded in process; pipe = a raw round trip of the same bytes\n" +
			"over two pipes to a child process that echoes them (blocking read and write)",
		variants: isolatedVariants,
	},
	{
		id: "rust", unit: "ns/call", baselines: callBaselines("ns/call"), extra: "allocs",
		title: "rust: ns per CallAppend of the Rust SDK's echo (ABI 2, \"process\"), reused destination",
		legend: "cgo, purego: the Rust module's memlink_call_v2 called as in the call row, interleaved\n" +
			"in rounds the same way; compare the call row's abi2 for the same work in C",
		reps:     func(s *suite) int { return s.cfg.rounds },
		variants: rustVariants,
	},
	{
		id: "memory", unit: "KB", baselines: fixed(baseline{baseDlopen, "KB"}),
		title:    fmt.Sprintf("memory: KB resident per loaded module, %d private copies of echo", memoryCopies),
		legend:   fmt.Sprintf("dlopen = Dlopen of %d copies of the file", memoryCopies),
		variants: memoryVariants,
	},
	{
		id: "metrics", unit: "%", baselines: fixed(baseline{baseNoScrape, "ns/call"}),
		title:    "metrics: % added to a 64-byte call by a collector scraped every 10 ms",
		legend:   "bare = ns/call with no collector, windows interleaved; ratio = with / without",
		variants: metricsVariants,
	},
}

// rowIDs returns the ids of every row, in order.
func rowIDs() []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}

// rowByID returns the row called id, or nil.
func rowByID(id string) *row {
	for _, r := range rows {
		if r.id == id {
			return r
		}
	}
	return nil
}

// ref returns the reference of a bundled module.
func (s *suite) ref(module string) (memlink.Ref, error) {
	return memlink.ParseRef(s.modules[module])
}

// alternate runs a and b, in that order on even repetitions and the other
// way round on odd ones, so that neither side always runs first.
func alternate(k int, a, b func() error) error {
	if k%2 == 1 {
		a, b = b, a
	}
	if err := a(); err != nil {
		return err
	}
	return b()
}

// lifecycleVariant is the single variant of the load and unload rows: it
// loads and unloads echo, and keeps the open or the close side.
func lifecycleVariant(s *suite, published string, keep func(lifecycle) float64) []variant {
	return []variant{{
		name: "echo", published: published,
		setup: func() (measureFunc, func() error, error) {
			ref, err := s.ref("echo")
			if err != nil {
				return nil, nil, err
			}
			path := s.modules["echo"]
			// Warm up: the first cycles of a process pay for page faults,
			// thread starts and directory creation that later ones do not.
			for range warmupCycles {
				if _, err := memlinkLifecycle(s.rt, ref, 0); err != nil {
					return nil, nil, err
				}
				if _, err := rawLifecycle(path, 0); err != nil {
					return nil, nil, err
				}
			}
			measure := func(k int) (sample, error) {
				var ml, raw lifecycle
				err := alternate(k,
					func() (err error) { ml, err = memlinkLifecycle(s.rt, ref, s.cfg.duration); return err },
					func() (err error) { raw, err = rawLifecycle(path, s.cfg.duration); return err })
				if err != nil {
					return sample{}, err
				}
				return sample{value: keep(ml), base: []float64{keep(raw)}, ops: ml.n}, nil
			}
			return measure, nil, nil
		},
	}}
}

func loadVariants(s *suite) []variant {
	return lifecycleVariant(s, publishedLoad, lifecycle.openMicros)
}

func unloadVariants(s *suite) []variant {
	return lifecycleVariant(s, publishedUnload, lifecycle.closeMicros)
}

// callModules are the modules of the call row: one per ABI.
var callModules = []struct {
	abi            string
	module, method string
	symbol         string
}{
	{"abi1", "echo", "process", abi.SymCall},
	{"abi2", "binary", "echo", abi.SymCallV2},
}

func callVariants(s *suite) []variant {
	var vs []variant
	for _, m := range callModules {
		for _, n := range s.cfg.payloads {
			v := variant{name: fmt.Sprintf("%s/%dB", m.abi, n)}
			if m.abi == "abi1" && n == 64 {
				v.published = publishedCall
			}
			v.setup = func() (measureFunc, func() error, error) {
				return setupCall(s, m.module, m.method, m.symbol, n)
			}
			vs = append(vs, v)
		}
	}
	return vs
}

// setupCall loads module, opens it raw beside (and with cgo's dlopen in a
// cgo build), checks that every side echoes an n-byte payload, and returns
// the call measurement: the interleaved harness, in which one
// repetition is a round of -calls calls on each side in turn (the order
// rotating from round to round) and the ratio is taken per round.
func setupCall(s *suite, module, method, symbol string, n int) (measureFunc, func() error, error) {
	ref, err := s.ref(module)
	if err != nil {
		return nil, nil, err
	}
	h, err := s.rt.Load(ref)
	if err != nil {
		return nil, nil, err
	}
	var cg *cgobench.Lib
	lib, err := rawloader.Open(s.modules[module])
	if err != nil {
		_ = s.rt.Unload(h)
		return nil, nil, fmt.Errorf("raw open: %w", err)
	}
	inited := false
	teardown := func() error {
		err := s.rt.Unload(h)
		if cg != nil {
			cg.Close()
		}
		if inited {
			if fn, serr := rawloader.Sym(lib, abi.SymShutdown); serr == nil {
				rawCallOnce(fn, nil)
			}
		}
		if cerr := rawloader.Close(lib); err == nil {
			err = cerr
		}
		return err
	}
	fail := func(err error) (measureFunc, func() error, error) {
		_ = teardown()
		return nil, nil, err
	}
	fn, err := rawloader.Sym(lib, symbol)
	if err != nil {
		return fail(fmt.Errorf("raw lookup %s: %w", symbol, err))
	}
	// The raw library is a load of its own (memlink calls a private
	// copy): initialise it as memlink does its copy, so that a module
	// keeping state from init (the Rust SDK's) answers the raw calls too.
	if err := rawInit(lib); err != nil {
		return fail(err)
	}
	inited = true
	v2 := symbol == abi.SymCallV2
	id := abi.MethodID(method)
	args := bytes.Repeat([]byte{'x'}, n)
	out, err := s.rt.Call(h, method, args)
	if err != nil {
		return fail(err)
	}
	if !bytes.Equal(out, args) {
		return fail(fmt.Errorf("%w: %s %q returned %d bytes for %d", errMismatch, module, method, len(out), n))
	}
	raw := newRawCall(fn, v2, id, n, memlink.DefaultOutputCapacity)
	if err := raw.check(); err != nil {
		return fail(err)
	}
	sides := []func(calls int) callCost{
		func(calls int) callCost { return memlinkCallsN(s.rt, h, method, args, calls) },
	}
	if s.cgo {
		if cg, err = cgobench.Open(s.modules[module], v2, memlink.DefaultOutputCapacity); err != nil {
			return fail(err)
		}
		if rc := cg.Call(id, args); rc != 0 {
			return fail(fmt.Errorf("cgo call returned %d (%s)", rc, abi.CodeText(int32(rc))))
		}
		sides = append(sides, func(calls int) callCost { return cgoCallsN(cg, id, args, calls) })
	}
	sides = append(sides, raw.loopN)
	// Warm up every side.
	for _, side := range sides {
		side(callBatch)
	}
	calls := s.cfg.calls
	measure := func(k int) (sample, error) {
		costs := make([]callCost, len(sides))
		for j := range sides {
			// Round k starts with side k mod len(sides).
			i := (k + j) % len(sides)
			costs[i] = sides[i](calls)
		}
		if costs[0].err != nil {
			return sample{}, costs[0].err
		}
		smp := sample{value: costs[0].ns, allocs: costs[0].allocs, counted: true, ops: costs[0].n}
		for _, c := range costs[1:] {
			smp.base = append(smp.base, c.ns)
			smp.baseAllocs = append(smp.baseAllocs, c.allocs)
		}
		return smp, nil
	}
	return measure, teardown, nil
}

// rawInit calls memlink_init with an empty configuration on a library
// opened with the raw loader (the cgo yardstick opens the same file, so it
// shares the initialised library).
func rawInit(lib uintptr) error {
	fn, err := rawloader.Sym(lib, abi.SymInit)
	if err != nil {
		return fmt.Errorf("raw lookup %s: %w", abi.SymInit, err)
	}
	if rc := int32(rawCallOnce(fn, []uintptr{0, 0})); rc != 0 {
		return fmt.Errorf("raw %s returned %d (%s)", abi.SymInit, rc, abi.CodeText(rc))
	}
	return nil
}

// rustPayload is the Rust row's payload size.
const rustPayload = 64

func rustVariants(s *suite) []variant {
	return []variant{{
		name: fmt.Sprintf("echo/%dB", rustPayload),
		setup: func() (measureFunc, func() error, error) {
			if _, ok := s.modules[rustEcho]; !ok {
				reason := rustNA
				if reason == "" {
					reason = "the Rust echo was not built"
				}
				return nil, nil, notAvailable{reason}
			}
			return setupCall(s, rustEcho, "process", abi.SymCallV2, rustPayload)
		},
	}}
}

func reloadVariants(s *suite) []variant {
	var vs []variant
	for _, stateful := range []bool{false, true} {
		for _, g := range []int{0, reloadCallers} {
			kind := "stateless"
			if stateful {
				kind = "stateful"
			}
			v := variant{name: fmt.Sprintf("%s/%d", kind, g)}
			if !stateful && g == 0 {
				v.published = publishedReload
			}
			v.setup = func() (measureFunc, func() error, error) { return setupReload(s, stateful, g) }
			vs = append(vs, v)
		}
	}
	return vs
}

// setupReload loads counter, starts g goroutines calling it (a 1 ms
// "sleep", then "increment"), and returns the reload measurement. Its teardown stops them, fails if
// any call failed and, for stateful reloads, if the counter lost an
// increment across the reloads.
func setupReload(s *suite, stateful bool, g int) (measureFunc, func() error, error) {
	ref, err := s.ref("counter")
	if err != nil {
		return nil, nil, err
	}
	h, err := s.rt.Load(ref)
	if err != nil {
		return nil, nil, err
	}
	c := startCallers(s.rt, h, g)
	teardown := func() error {
		calls, err := c.halt()
		if err != nil {
			_ = s.rt.Unload(h)
			return fmt.Errorf("a call during the reloads failed: %w", err)
		}
		if stateful {
			out, err := s.rt.Call(h, "get", nil)
			if err != nil {
				_ = s.rt.Unload(h)
				return err
			}
			if got, err := strconv.ParseInt(string(out), 10, 64); err != nil || got != calls {
				_ = s.rt.Unload(h)
				return fmt.Errorf("%w: counter is %q after %d increments across stateful reloads", errMismatch, out, calls)
			}
		}
		return s.rt.Unload(h)
	}
	rc := hotreload.Config{DrainTimeout: 10 * time.Second, PreserveState: stateful}
	// Warm up: one reload and one load-and-unload cycle.
	if _, err := memlinkReloads(s.rt, h, ref, rc, 0); err != nil {
		_ = teardown()
		return nil, nil, err
	}
	if _, err := memlinkLifecycle(s.rt, ref, 0); err != nil {
		_ = teardown()
		return nil, nil, err
	}
	measure := func(k int) (sample, error) {
		var ml reloadCost
		var base lifecycle
		err := alternate(k,
			func() (err error) { ml, err = memlinkReloads(s.rt, h, ref, rc, s.cfg.duration); return err },
			func() (err error) { base, err = memlinkLifecycle(s.rt, ref, s.cfg.duration); return err })
		if err != nil {
			return sample{}, err
		}
		return sample{value: ml.micros, base: []float64{base.cycleMicros()}, inFlight: ml.drained, hasInFlight: true, ops: ml.n}, nil
	}
	return measure, teardown, nil
}

// Kinds of concurrent-row variants.
const (
	kindSameHandle   = "same-handle"
	kindPerGoroutine = "per-goroutine"
)

func concurrentVariants(s *suite) []variant {
	var vs []variant
	for _, kind := range []string{kindSameHandle, kindPerGoroutine} {
		for _, g := range s.cfg.goroutines {
			v := variant{name: fmt.Sprintf("%s/%d", kind, g), kind: kind, goroutines: g}
			if kind == kindSameHandle && g == 8 {
				v.published = publishedConcurrent
			}
			v.setup = func() (measureFunc, func() error, error) { return setupConcurrent(s, kind, g) }
			vs = append(vs, v)
		}
	}
	return vs
}

// setupConcurrent loads echo once (same-handle) or g times
// (per-goroutine), opens it raw beside, and returns the throughput
// measurement.
func setupConcurrent(s *suite, kind string, g int) (measureFunc, func() error, error) {
	ref, err := s.ref("echo")
	if err != nil {
		return nil, nil, err
	}
	loads := 1
	if kind == kindPerGoroutine {
		loads = g
	}
	var handles []memlink.Handle
	var lib uintptr
	teardown := func() error {
		var err error
		for _, h := range handles {
			if uerr := s.rt.Unload(h); err == nil {
				err = uerr
			}
		}
		if lib != 0 {
			if cerr := rawloader.Close(lib); err == nil {
				err = cerr
			}
		}
		return err
	}
	for range loads {
		h, err := s.rt.Load(ref)
		if err != nil {
			_ = teardown()
			return nil, nil, err
		}
		handles = append(handles, h)
	}
	hs := make([]memlink.Handle, g)
	for i := range hs {
		hs[i] = handles[i%len(handles)]
	}
	if lib, err = rawloader.Open(s.modules["echo"]); err != nil {
		_ = teardown()
		return nil, nil, fmt.Errorf("raw open: %w", err)
	}
	fn, err := rawloader.Sym(lib, abi.SymCall)
	if err != nil {
		_ = teardown()
		return nil, nil, fmt.Errorf("raw lookup: %w", err)
	}
	path := s.modules["echo"]
	sides := []func() (float64, int64, error){
		func() (float64, int64, error) { return memlinkThroughput(s.rt, hs, s.cfg.duration) },
	}
	if s.cgo {
		sides = append(sides, func() (float64, int64, error) { return cgoThroughput(path, g, s.cfg.duration) })
	}
	sides = append(sides, func() (float64, int64, error) { return rawThroughput(fn, g, s.cfg.duration) })
	measure := func(k int) (sample, error) {
		rates := make([]float64, len(sides))
		var n int64
		for j := range sides {
			i := (k + j) % len(sides)
			rate, ops, err := sides[i]()
			if err != nil {
				return sample{}, err
			}
			if i == 0 {
				n = ops
			}
			rates[i] = rate
		}
		smp := sample{value: nsPerCall(rates[0]), ops: n}
		for _, r := range rates[1:] {
			smp.base = append(smp.base, nsPerCall(r))
		}
		return smp, nil
	}
	return measure, teardown, nil
}

// nsPerCall turns calls per second into nanoseconds per call.
func nsPerCall(rate float64) float64 {
	if rate <= 0 {
		return 0
	}
	return 1e9 / rate
}

// concurrentScaling sets each variant's speed-up (and its baselines')
// relative to the variant of the same kind at one goroutine, when that one
// was measured: ns per call there over ns per call here.
func concurrentScaling(rs []Result) {
	one := map[string]*Result{}
	for i := range rs {
		if rs[i].Goroutines == 1 && rs[i].OK() {
			one[rs[i].Kind] = &rs[i]
		}
	}
	for i := range rs {
		r := &rs[i]
		base := one[r.Kind]
		if base == nil || !r.OK() || r.Median() == 0 {
			continue
		}
		r.Scaling = base.Median() / r.Median()
		for j := range r.Baselines {
			if j < len(base.Baselines) {
				if m := median(r.Baselines[j].Values); m > 0 {
					r.Baselines[j].Scaling = median(base.Baselines[j].Values) / m
				}
			}
		}
	}
}

// isolatedPayloads are the payload sizes of the isolated row.
var isolatedPayloads = []int{64, 4096}

func isolatedVariants(s *suite) []variant {
	var vs []variant
	for _, n := range isolatedPayloads {
		vs = append(vs, variant{
			name:  fmt.Sprintf("%dB", n),
			setup: func() (measureFunc, func() error, error) { return setupIsolated(s, n) },
		})
	}
	return vs
}

// setupIsolated loads echo in a worker process and in process, starts the
// pipe peer, and returns the measurement of all three, in turn, for
// -duration each.
func setupIsolated(s *suite, n int) (measureFunc, func() error, error) {
	ref, err := s.ref("echo")
	if err != nil {
		return nil, nil, err
	}
	iso, err := s.rt.Load(ref, memlink.WithIsolation(memlink.Isolation{}))
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, nil, notAvailable{err.Error()}
	}
	if err != nil {
		return nil, nil, err
	}
	var local memlink.Handle
	var peer *pipePeer
	teardown := func() error {
		err := s.rt.Unload(iso)
		if local != 0 {
			err = errors.Join(err, s.rt.Unload(local))
		}
		if peer != nil {
			err = errors.Join(err, peer.close())
		}
		return err
	}
	fail := func(err error) (measureFunc, func() error, error) {
		_ = teardown()
		return nil, nil, err
	}
	if local, err = s.rt.Load(ref); err != nil {
		return fail(err)
	}
	args := bytes.Repeat([]byte{'x'}, n)
	for _, h := range []memlink.Handle{iso, local} {
		out, err := s.rt.Call(h, "process", args)
		if err != nil {
			return fail(err)
		}
		if !bytes.Equal(out, args) {
			return fail(fmt.Errorf("%w: echo returned %d bytes for %d", errMismatch, len(out), n))
		}
	}
	// No pipe peer where there are no Unix pipes: the baseline is 0, shown
	// as n/a.
	peer, err = startPipePeer()
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fail(fmt.Errorf("pipe peer: %w", err))
	}
	if peer != nil {
		if err := peer.check(args); err != nil {
			return fail(fmt.Errorf("pipe peer: %w", err))
		}
	}
	d := s.cfg.duration
	sides := []func() (callCost, error){
		func() (callCost, error) { return memlinkCalls(s.rt, iso, "process", args, d) },
		func() (callCost, error) { return memlinkCalls(s.rt, local, "process", args, d) },
		func() (callCost, error) {
			if peer == nil {
				return callCost{}, nil
			}
			return peer.roundTrips(args, d)
		},
	}
	measure := func(k int) (sample, error) {
		costs := make([]callCost, len(sides))
		for j := range sides {
			i := (k + j) % len(sides)
			c, err := sides[i]()
			if err != nil {
				return sample{}, err
			}
			costs[i] = c
		}
		return sample{value: costs[0].ns, base: []float64{costs[1].ns, costs[2].ns}, ops: costs[0].n}, nil
	}
	return measure, teardown, nil
}

func memoryVariants(s *suite) []variant {
	return []variant{{
		name: fmt.Sprintf("%d copies", memoryCopies), published: publishedMemory,
		setup: func() (measureFunc, func() error, error) { return setupMemory(s) },
	}}
}

// setupMemory checks that resident memory can be read here and makes the
// copies of echo the baseline opens.
func setupMemory(s *suite) (measureFunc, func() error, error) {
	if _, err := rssKB(); err != nil {
		return nil, nil, err
	}
	ref, err := s.ref("echo")
	if err != nil {
		return nil, nil, err
	}
	src := s.modules["echo"]
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "memlink-bench-copies-")
	if err != nil {
		return nil, nil, err
	}
	teardown := func() error { return os.RemoveAll(dir) }
	paths := make([]string, memoryCopies)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("%03d-%s", i, filepath.Base(src)))
		if err := os.WriteFile(paths[i], data, 0o500); err != nil {
			_ = teardown()
			return nil, nil, err
		}
	}
	measure := func(k int) (sample, error) {
		var ml, base float64
		err := alternate(k,
			func() (err error) { ml, err = memlinkMemory(s.rt, ref, memoryCopies); return err },
			func() (err error) { base, err = rawMemory(paths); return err })
		if err != nil {
			return sample{}, err
		}
		return sample{value: ml, base: []float64{base}, ops: memoryCopies}, nil
	}
	return measure, teardown, nil
}

func metricsVariants(s *suite) []variant {
	return []variant{{
		name:  "abi1/64B",
		setup: func() (measureFunc, func() error, error) { return setupMetrics(s) },
	}}
}

// setupMetrics loads echo and returns the metrics-overhead measurement.
func setupMetrics(s *suite) (measureFunc, func() error, error) {
	ref, err := s.ref("echo")
	if err != nil {
		return nil, nil, err
	}
	h, err := s.rt.Load(ref)
	if err != nil {
		return nil, nil, err
	}
	window := max(s.cfg.duration/metricsPairs, minMetricsWindow)
	measure := func(k int) (sample, error) {
		c, err := metricsOverhead(s.rt, h, window, metricsPairs, k%2 == 1)
		if err != nil {
			return sample{}, err
		}
		ratio := c.with / c.without
		return sample{value: (ratio - 1) * 100, base: []float64{c.without}, ratio: ratio, ops: c.n}, nil
	}
	return measure, func() error { return s.rt.Unload(h) }, nil
}
