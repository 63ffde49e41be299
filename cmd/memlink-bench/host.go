package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/rawloader"
	"github.com/memlink/memlink-go/memlink"
)

// The host row: what a host call (a module calling a Go function through
// its memlink_host table) and a module log record cost, in process and
// isolated, against the same C code calling raw purego.NewCallback
// functions.
//
// The module is kv. Its "many" method makes hostBatch host calls of the
// function "bench" (which returns its 16-byte args) in one module call,
// and "logmany" logs hostBatch 16-byte records, so that a figure is per
// host call with the module call's own cost spread over hostBatch of them
// (under 2 % of an in-process figure) rather than a difference of two
// noisy totals. memlink's BenchmarkHostCall measures the difference the
// issue defines (a method with one host call minus the same without).

// hostBatch is how many host calls or records one module call makes.
const hostBatch = 64

// hostPayload is the size of a host call's args and result, and of a
// record's message.
const hostPayload = 16

// baseCallback names the host row's baseline.
const baseCallback = "purego"

func init() {
	neededModules = append(neededModules, "kv")
	hostRow := &row{
		id: "host", unit: "ns", baselines: fixed(baseline{baseCallback, "ns"}), extra: "allocs",
		title: fmt.Sprintf("host: ns per host call or log record of kv (%d in one module call, %d B each);\n"+
			"variant = mode/kind; allocs = Go heap allocations per host call or record", hostBatch, hostPayload),
		legend: "purego = the same kv code with a host table of raw purego.NewCallback functions (the call copies\n" +
			"its args, the log does nothing), called through purego.SyscallN; ratio = memlink / purego",
		variants: hostVariants,
	}
	i := slices.IndexFunc(rows, func(r *row) bool { return r.id == "isolated" })
	rows = slices.Insert(rows, i+1, hostRow)
}

func hostVariants(s *suite) []variant {
	return []variant{
		{name: "inprocess/call", setup: func() (measureFunc, func() error, error) { return setupHost(s, false, "many") }},
		{name: "isolated/call", setup: func() (measureFunc, func() error, error) { return setupHost(s, true, "many") }},
		{name: "inprocess/log", setup: func() (measureFunc, func() error, error) { return setupHost(s, false, "logmany") }},
	}
}

// nopHandler accepts every record and does nothing with it: the runtime's
// cost of a record without the cost of formatting it.
type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }

// setupHost loads kv in a runtime of its own that grants "bench" (in a
// worker when isolated), opens kv raw beside it bound to the raw
// callbacks, checks both sides, and returns the measurement: -duration of
// calls of method on each side, in turn.
func setupHost(s *suite, isolated bool, method string) (measureFunc, func() error, error) {
	logPtr, callPtr := rawHostCallbacks()
	if callPtr == 0 {
		return nil, nil, notAvailable{"no purego callbacks on this platform"}
	}
	ref, err := s.ref("kv")
	if err != nil {
		return nil, nil, err
	}
	rt := memlink.New(memlink.WithLogger(slog.New(nopHandler{})),
		memlink.WithHostFunc("bench", func(_ context.Context, args, out []byte) ([]byte, error) {
			return append(out, args...), nil
		}))
	var opts []memlink.LoadOption
	if isolated {
		opts = append(opts, memlink.WithIsolation(memlink.Isolation{}))
	}
	h, err := rt.Load(ref, opts...)
	if errors.Is(err, errors.ErrUnsupported) {
		rt.Close()
		return nil, nil, notAvailable{err.Error()}
	}
	if err != nil {
		rt.Close()
		return nil, nil, err
	}
	lib, err := rawloader.Open(s.modules["kv"])
	if err != nil {
		rt.Close()
		return nil, nil, fmt.Errorf("raw open: %w", err)
	}
	inited := false
	teardown := func() error {
		err := rt.Close()
		if inited {
			if fn, serr := rawloader.Sym(lib, abi.SymShutdown); serr == nil {
				rawCallOnce(fn, nil)
			}
		}
		return errors.Join(err, rawloader.Close(lib))
	}
	fail := func(err error) (measureFunc, func() error, error) {
		_ = teardown()
		return nil, nil, err
	}
	bind, err := rawloader.Sym(lib, abi.SymHostBind)
	if err != nil {
		return fail(fmt.Errorf("raw lookup %s: %w", abi.SymHostBind, err))
	}
	rawHost.table = abi.HostTable{Version: abi.HostVersion, Size: uint32(abi.HostTableSize), Log: logPtr, Call: callPtr}
	if rc := int32(rawCallOnce(bind, []uintptr{uintptr(unsafe.Pointer(&rawHost.table))})); rc != 0 {
		return fail(fmt.Errorf("raw %s returned %d", abi.SymHostBind, rc))
	}
	if err := rawInit(lib); err != nil {
		return fail(err)
	}
	inited = true
	fn, err := rawloader.Sym(lib, abi.SymCallV2)
	if err != nil {
		return fail(fmt.Errorf("raw lookup %s: %w", abi.SymCallV2, err))
	}
	args := append([]byte{hostBatch}, bytes.Repeat([]byte{'x'}, hostPayload)...)
	want := args[1:]
	if method == "logmany" {
		want = nil
	}
	out, err := rt.Call(h, method, args)
	if err != nil {
		return fail(err)
	}
	if !bytes.Equal(out, want) {
		return fail(fmt.Errorf("%w: kv %q returned %q", errMismatch, method, out))
	}
	raw := newRawCall(fn, true, abi.MethodID(method), len(args), memlink.DefaultOutputCapacity)
	raw.args[0] = hostBatch
	calls0, logs0 := rawHost.calls.Load(), rawHost.logs.Load()
	if err := raw.check(); err != nil {
		return fail(err)
	}
	if method == "many" && rawHost.calls.Load()-calls0 != hostBatch || method == "logmany" && rawHost.logs.Load()-logs0 != hostBatch {
		return fail(fmt.Errorf("%w: the raw kv %q did not reach the raw callbacks %d times", errMismatch, method, hostBatch))
	}
	d := s.cfg.duration
	sides := []func() (callCost, error){
		func() (callCost, error) { return memlinkCalls(rt, h, method, args, d) },
		func() (callCost, error) { return rawCallsFor(raw, d), nil },
	}
	measure := func(k int) (sample, error) {
		var costs [2]callCost
		err := alternate(k,
			func() (err error) { costs[0], err = sides[0](); return err },
			func() (err error) { costs[1], err = sides[1](); return err })
		if err != nil {
			return sample{}, err
		}
		return sample{
			value: costs[0].ns / hostBatch, base: []float64{costs[1].ns / hostBatch},
			allocs: costs[0].allocs / hostBatch, baseAllocs: []float64{costs[1].allocs / hostBatch}, counted: true,
			ops: costs[0].n * hostBatch,
		}, nil
	}
	return measure, teardown, nil
}

// rawCallsFor makes batches of raw calls for at least d.
func rawCallsFor(c *rawCall, d time.Duration) callCost {
	var total callCost
	start := time.Now()
	for time.Since(start) < d || total.n == 0 {
		cost := c.loopN(callBatch)
		total.ns += cost.ns * float64(cost.n)
		total.allocs += cost.allocs * float64(cost.n)
		total.n += cost.n
	}
	total.ns /= float64(total.n)
	total.allocs /= float64(total.n)
	return total
}
