package memlink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/arena"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/hostcall"
	"github.com/memlink/memlink-go/internal/isolate"
)

// How a module reaches the host (docs/design.md, "Host functions"):
//
//   - Two C callbacks exist per process (abi.HostCallbacks), shared by all
//     modules of all runtimes. The ctx every module receives in its table
//     is a slot index and a generation in bindTab, never a Go pointer: a
//     ctx kept past its module's unload finds a retired slot (or a newer
//     generation) and gets code -6.
//   - A call on a module that bound the host pushes a record under the
//     identity of the calling goroutine (hostcall.G) in gTab; the callback,
//     which runs on that goroutine, finds it there, and with it the call's
//     context and method. Modules that did not bind pay nothing: their
//     instance has no binding and the call path never looks.

// Outcomes of host calls, counted per module and function
// (ModuleStats.HostCalls, memlink_host_calls_total's result label).
const (
	hostOK       = iota // 0: the result was delivered
	hostError           // -1: the HostFunc returned an error
	hostTooSmall        // -4: the result did not fit; it is held for the retry
	hostPanicked        // -5: the HostFunc panicked
	hostUnknown         // -6: no such function granted to the module
	hostInvalid         // -2: the module passed unusable pointers or lengths
	numHostResults
)

var hostResults = [numHostResults]string{"ok", "error", "too_small", "panicked", "unknown", "invalid"}

// HostCallResults lists the values of HostCallCount.Result, in a fixed
// order: "ok" (the result reached the module), "error" (the HostFunc
// returned an error: code -1), "too_small" (the result did not fit: code
// -4, the result is held for the retry), "panicked" (code -5), "unknown"
// (an id not granted to the module: code -6) and "invalid" (unusable
// pointers or lengths: code -2).
func HostCallResults() []string { return slices.Clone(hostResults[:]) }

// UnknownHostFunction is the Function of HostCallCount for host calls with
// an id that names no function granted to the module.
const UnknownHostFunction = "(unknown)"

// HostCallCount is the number of host calls one module made to one
// function with one result. See ModuleStats.HostCalls.
type HostCallCount struct {
	// Function is the host function's name, or UnknownHostFunction.
	Function string
	// Result is one of HostCallResults.
	Result string
	// Count is the number of such host calls, across reloads.
	Count uint64
}

// hostCounters are the host-call and log counters of one handle, shared by
// all its versions so that they continue across reloads.
type hostCounters struct {
	mu      sync.Mutex
	fns     map[string]*[numHostResults]atomic.Uint64
	unknown [numHostResults]atomic.Uint64
	logs    atomic.Uint64 // records delivered to the logger
	dropped atomic.Uint64 // records that could not be delivered
}

func newHostCounters() *hostCounters {
	return &hostCounters{fns: make(map[string]*[numHostResults]atomic.Uint64)}
}

func (c *hostCounters) fn(name string) *[numHostResults]atomic.Uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.fns[name]
	if n == nil {
		n = new([numHostResults]atomic.Uint64)
		c.fns[name] = n
	}
	return n
}

// snapshot returns the non-zero counts, sorted by function then result.
func (c *hostCounters) snapshot() []HostCallCount {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range c.fns {
			if !yield(n) {
				return
			}
		}
	})
	counts := make([]*[numHostResults]atomic.Uint64, len(names))
	for i, n := range names {
		counts[i] = c.fns[n]
	}
	c.mu.Unlock()
	names, counts = append(names, UnknownHostFunction), append(counts, &c.unknown)
	var out []HostCallCount
	for i, n := range names {
		for r := range numHostResults {
			if v := counts[i][r].Load(); v != 0 {
				out = append(out, HostCallCount{Function: n, Result: hostResults[r], Count: v})
			}
		}
	}
	return out
}

// boundFn is one host function as a binding sees it.
type boundFn struct {
	name  string
	fn    HostFunc
	count *[numHostResults]atomic.Uint64
}

// Binding states: one owner each (bind, then retire), never back.
const (
	bindingNew     int32 = iota // created, table not yet given to the module
	bindingBound                // the module holds the table
	bindingRetired              // the module was shut down (or never bound)
)

// maxHeld bounds the results a binding keeps for -4 retries; the oldest
// is dropped first. heldTTL bounds how long one made outside any call
// (whose end would otherwise drop it) is kept.
const (
	maxHeld = 16
	heldTTL = 10 * time.Second
)

// heldResult is a host call's result that did not fit the module's buffer,
// kept for its retry.
type heldResult struct {
	rec    *hostRec // the module call it was made in, nil outside any
	recSeq uint64   // rec.seq then: the record is reused by later calls
	id     uint32
	args   []byte
	result []byte
	at     time.Time
}

// hostBinding is what the host knows of one module version that received a
// host table: its grants, the counters, the held -4 results and the
// records of the calls in flight on it.
type hostBinding struct {
	rt       *Runtime
	module   string // the module label
	gen      uint64
	handle   atomic.Uint64
	hname    atomic.Pointer[string] // handle's String, for log records
	funcs    map[uint32]*boundFn
	own      map[string]HostFunc // WithHostFuncs, inherited by reloads
	counters *hostCounters
	maxArgs  int
	maxOut   int

	slot  uint32
	ctx   uintptr // what the table carries
	table *abi.HostTable
	state atomic.Int32

	recs  []atomicRec // by gate lane, created on first use
	spare sync.Pool   // *hostRec for calls without a lane
	bare  hostCtx     // the context of host calls outside any call

	heldN  atomic.Int32
	heldMu sync.Mutex
	held   []*heldResult
}

// hostCtx is the context a HostFunc receives: the module call's context
// plus the caller, without an allocation per host call.
type hostCtx struct {
	context.Context
	caller Caller
}

func (c *hostCtx) Value(key any) any {
	if _, ok := key.(callerKey); ok {
		return &c.caller
	}
	return c.Context.Value(key)
}

// hostRec records one call in flight on a bound module, for the callbacks
// it makes (found through gTab) and for ErrReentrant.
type hostRec struct {
	slot *gSlot
	prev *hostRec
	b    *hostBinding
	seq  uint64 // bumped by every call that uses the record
	held bool   // a result of this call is held
	hctx hostCtx
}

// newHostBinding prepares the binding of a module about to be opened: the
// functions granted to it (the runtime's, then its own), resolved to ids.
// Two names with one id are refused: the module could not tell them apart.
func (rt *Runtime) newHostBinding(hl hostLoad, module string, gen uint64) (*hostBinding, error) {
	if !callpath.HostCallbacksSupported {
		return nil, nil
	}
	counters := hl.counters
	if counters == nil {
		counters = newHostCounters()
	}
	b := &hostBinding{
		rt: rt, module: module, gen: gen, own: hl.funcs, counters: counters,
		funcs:   make(map[uint32]*boundFn, len(rt.opts.host.funcs)+len(hl.funcs)),
		maxArgs: rt.opts.maxOutput, maxOut: rt.opts.maxOutput,
	}
	b.setHandle(hl.handle)
	add := func(name string, fn HostFunc) error {
		id := abi.MethodID(name)
		if prev := b.funcs[id]; prev != nil && prev.name != name {
			return fmt.Errorf("host functions %q and %q have the same id %#x", prev.name, name, id)
		}
		b.funcs[id] = &boundFn{name: name, fn: fn, count: counters.fn(name)}
		return nil
	}
	for _, name := range slices.Sorted(mapKeys(rt.opts.host.funcs)) {
		if _, mine := hl.funcs[name]; !mine {
			if err := add(name, rt.opts.host.funcs[name]); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range slices.Sorted(mapKeys(hl.funcs)) {
		if err := add(name, hl.funcs[name]); err != nil {
			return nil, err
		}
	}
	b.bare = hostCtx{Context: context.Background(), caller: Caller{Module: module, Generation: gen, Handle: hl.handle}}
	b.spare.New = func() any { return &hostRec{b: b} }
	return b, nil
}

func mapKeys[M ~map[string]V, V any](m M) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// bindTable allocates the binding's slot and table. The table is what the
// module receives; lanes is the number of gate lanes of its instance.
func (b *hostBinding) bindTable(lanes int) error {
	slot, ctx, table, err := bindTab.add(b)
	if err != nil {
		return err
	}
	b.slot, b.ctx, b.table = slot, ctx, table
	b.recs = make([]atomicRec, lanes)
	return nil
}

// bind hands the table to mod's memlink_host_bind. A module without the
// export gets nothing, and its binding is retired at once (see bound).
func (b *hostBinding) bind(mod *callpath.Module, name string, lanes int) error {
	if b == nil {
		return nil
	}
	if err := b.bindTable(lanes); err != nil {
		return err
	}
	rc, present := mod.HostBind(b.table)
	if !present {
		b.retire()
		return nil
	}
	if rc != 0 {
		b.retire()
		return fmt.Errorf("%w: %s: memlink_host_bind returned %d (%s)", ErrInitFailed, name, rc, abi.CodeText(rc))
	}
	b.state.Store(bindingBound)
	return nil
}

// bound returns b if its module bound the host table, else nil: what the
// instance keeps, so that the call path of a module that did not bind
// never looks further.
func (b *hostBinding) bound() *hostBinding {
	if b == nil || b.state.Load() != bindingBound {
		return nil
	}
	return b
}

// attach tells the binding the handle of a first load once it exists.
func (b *hostBinding) attach(h Handle) {
	if b == nil {
		return
	}
	b.setHandle(h)
	b.bare.caller.Handle = h // no host call reads it concurrently: see Load
}

// setHandle records the handle of b's module, and its String for the
// handle attribute of log records (as in the metrics' handle label; empty
// while a first load has no handle yet, in memlink_init).
func (b *hostBinding) setHandle(h Handle) {
	s := handleLabel(h)
	b.hname.Store(&s)
	b.handle.Store(uint64(h))
}

// handleAttr is the handle attribute of b's records.
func (b *hostBinding) handleAttr() slog.Attr { return slog.String("handle", *b.hname.Load()) }

// retire ends the binding: its slot stops routing, so a module that kept
// the table (or a thread of it) gets -6 and its records are dropped.
// It is idempotent.
func (b *hostBinding) retire() {
	if b == nil || b.state.Swap(bindingRetired) == bindingRetired {
		return
	}
	if b.table != nil {
		bindTab.remove(b.slot)
	}
	b.heldMu.Lock()
	b.held = nil
	b.heldN.Store(0)
	b.heldMu.Unlock()
}

// rec returns the record for a call on gate lane li (-1: no lane).
func (b *hostBinding) rec(li int) *hostRec {
	if li < 0 || li >= len(b.recs) {
		return b.spare.Get().(*hostRec)
	}
	r := b.recs[li].Load()
	if r == nil {
		r = &hostRec{b: b}
		b.recs[li].Store(r)
	}
	return r
}

// enter records a call on the calling goroutine; exit undoes it.
func (b *hostBinding) enter(ctx context.Context, li int, method string) *hostRec {
	r := b.rec(li)
	if ctx == nil {
		ctx = context.Background()
	}
	r.seq++
	r.hctx.Context = ctx
	r.hctx.caller = Caller{Handle: Handle(b.handle.Load()), Module: b.module, Method: method, Generation: b.gen}
	push(r)
	return r
}

func (b *hostBinding) exit(r *hostRec, li int) {
	pop(r)
	if r.held {
		b.dropHeld(r)
	}
	r.hctx.Context = nil // let the call's context go
	if li < 0 || li >= len(b.recs) {
		b.spare.Put(r)
	}
}

// ---- goroutine records -----------------------------------------------

// gTab maps goroutines (hostcall.G) to the innermost call they are making
// on a bound module. Entries are never removed, only emptied: a goroutine
// keeps its entry for its life, and a later goroutine reusing its g reuses
// the entry, so the number of entries is at most the number of goroutines
// ever inside bound calls at once. A goroutine that finds no room within
// gProbe slots is not recorded; its callbacks are served as made outside a
// call.
const (
	gTabBits = 15
	gProbe   = 32
)

type gSlot struct {
	g   atomic.Uintptr
	top atomic.Pointer[hostRec]
}

var gTab [1 << gTabBits]gSlot

func gHash(g uintptr) uint32 {
	return uint32((uint64(g) >> 4) * 0x9E3779B97F4A7C15 >> (64 - gTabBits))
}

// gFind returns the entry of goroutine g, creating it when create is set.
func gFind(g uintptr, create bool) *gSlot {
	if g == 0 {
		return nil
	}
	h := gHash(g)
	for p := range uint32(gProbe) {
		s := &gTab[(h+p)&(1<<gTabBits-1)]
		v := s.g.Load()
		if v == g {
			return s
		}
		if v == 0 {
			if !create {
				return nil
			}
			if s.g.CompareAndSwap(0, g) {
				return s
			}
			if s.g.Load() == g { // cannot happen: only g inserts g
				return s
			}
		}
	}
	return nil
}

func push(r *hostRec) {
	s := gFind(hostcall.G(), true)
	r.slot = s
	if s != nil {
		r.prev = s.top.Load()
		s.top.Store(r)
	}
}

func pop(r *hostRec) {
	if s := r.slot; s != nil {
		s.top.Store(r.prev)
		r.slot, r.prev = nil, nil
	}
}

// current returns the innermost call on this goroutine if it is a call on
// b, so that a callback can serve it.
func current(b *hostBinding) *hostRec {
	s := gFind(hostcall.G(), false)
	if s == nil {
		return nil
	}
	if r := s.top.Load(); r != nil && r.b == b {
		return r
	}
	return nil
}

// reentrant reports whether this goroutine is inside a call on handle h of
// rt (any handle of rt when h is 0): an Unload, Reload or Close made from
// there would wait for its own caller.
func (rt *Runtime) reentrant(h Handle) error {
	s := gFind(hostcall.G(), false)
	if s == nil {
		return nil
	}
	for r := s.top.Load(); r != nil; r = r.prev {
		if r.b.rt == rt && (h == 0 || Handle(r.b.handle.Load()) == h) {
			if h == 0 {
				return fmt.Errorf("memlink: close from a host function of handle %v: %w", Handle(r.b.handle.Load()), ErrReentrant)
			}
			return fmt.Errorf("memlink: handle %v: %w", h, ErrReentrant)
		}
	}
	return nil
}

// ---- the routing table -----------------------------------------------

// bindTab routes a table's ctx to its binding. Slots live in chunks that
// are never freed, each with its table memory outside the Go heap. A
// retired slot's generation moves on, so the ctx its table still holds is
// stale (-6, records counted as dropped), and the slot waits in a FIFO
// behind at least bindQuarantine others before it is reused, so that a
// module that kept the pointer past its shutdown reads its own stale ctx
// rather than a newer module's for as long as possible.
const (
	bindChunkBits  = 10
	bindChunks     = 64 // up to 65536 bindings at once
	bindQuarantine = 256
)

type bindSlot struct {
	gen   atomic.Uint32
	b     atomic.Pointer[hostBinding]
	rt    atomic.Pointer[Runtime] // the last runtime, for counting stale logs
	table *abi.HostTable
}

type bindTable struct {
	mu     sync.Mutex
	chunks [bindChunks]atomic.Pointer[[1 << bindChunkBits]bindSlot]
	n      uint32   // slots created
	free   []uint32 // retired slots, oldest first
}

var bindTab bindTable

// staleLogs counts log records whose ctx no binding serves any more and
// whose runtime is unknown.
var staleLogs atomic.Uint64

var errBindingsFull = errors.New("too many modules bound to the host at once")

func packCtx(slot, gen uint32) uintptr {
	if bits.UintSize == 32 {
		return uintptr(gen&0xffff)<<16 | uintptr(slot+1)&0xffff
	}
	return uintptr(uint64(gen)<<32 | uint64(slot+1))
}

func unpackCtx(ctx uintptr) (slot, gen uint32, ok bool) {
	if bits.UintSize == 32 {
		s := uint32(ctx & 0xffff)
		return s - 1, uint32(ctx>>16) & 0xffff, s != 0
	}
	s := uint32(uint64(ctx))
	return s - 1, uint32(uint64(ctx) >> 32), s != 0
}

func slotAt(i uint32) *bindSlot {
	c := i >> bindChunkBits
	if c >= bindChunks {
		return nil
	}
	ch := bindTab.chunks[c].Load()
	if ch == nil {
		return nil
	}
	return &ch[i&(1<<bindChunkBits-1)]
}

// add gives b a slot and fills its table.
func (t *bindTable) add(b *hostBinding) (uint32, uintptr, *abi.HostTable, error) {
	logFn, callFn := callpath.HostCallbacks(hostLog, hostCall)
	t.mu.Lock()
	defer t.mu.Unlock()
	var i uint32
	if len(t.free) > bindQuarantine {
		i, t.free = t.free[0], t.free[1:]
	} else {
		if t.n >= bindChunks<<bindChunkBits {
			return 0, 0, nil, errBindingsFull
		}
		i = t.n
		c := i >> bindChunkBits
		if t.chunks[c].Load() == nil {
			ch := new([1 << bindChunkBits]bindSlot)
			size := int(abi.HostTableSize) << bindChunkBits
			mem, err := arena.New(size)
			if err != nil {
				return 0, 0, nil, fmt.Errorf("memlink: host tables: %w", err)
			}
			buf, err := mem.Alloc(size, 64)
			if err != nil {
				return 0, 0, nil, fmt.Errorf("memlink: host tables: %w", err)
			}
			for j := range ch {
				ch[j].table = (*abi.HostTable)(unsafe.Pointer(&buf[j*int(abi.HostTableSize)]))
			}
			t.chunks[c].Store(ch) // the arena is never closed: modules may hold tables for ever
		}
		t.n++
	}
	s := slotAt(i)
	gen := s.gen.Add(1)
	ctx := packCtx(i, gen)
	tb := s.table
	*tb = abi.HostTable{Version: abi.HostVersion, Size: uint32(abi.HostTableSize), Ctx: ctx, Log: logFn, Call: callFn}
	s.rt.Store(b.rt)
	s.b.Store(b)
	return i, ctx, tb, nil
}

// remove retires slot i.
func (t *bindTable) remove(i uint32) {
	s := slotAt(i)
	t.mu.Lock()
	defer t.mu.Unlock()
	s.b.Store(nil)
	s.gen.Add(1) // the table keeps its ctx, whose generation is now stale
	t.free = append(t.free, i)
}

// route finds the binding a ctx names, and the slot for stale ones.
func route(ctx uintptr) (*hostBinding, *bindSlot) {
	i, gen, ok := unpackCtx(ctx)
	if !ok {
		return nil, nil
	}
	s := slotAt(i)
	if s == nil {
		return nil, nil
	}
	b := s.b.Load()
	if b == nil || s.gen.Load() != gen {
		return nil, s
	}
	return b, s
}

// ---- the callbacks ----------------------------------------------------

// maxLogBytes bounds one log record's message; longer ones are cut.
const maxLogBytes = 64 << 10

// hostLog is the log callback of every module.
func hostLog(ctx, level uintptr, msg *byte, n uintptr) uintptr {
	b, s := route(ctx)
	if b == nil {
		if s != nil {
			if rt := s.rt.Load(); rt != nil {
				rt.stats.hostLogsDropped.Add(1)
				return 0
			}
		}
		staleLogs.Add(1)
		return 0
	}
	if msg == nil && n != 0 {
		b.counters.dropped.Add(1)
		return 0
	}
	truncated := n > maxLogBytes
	n = min(n, maxLogBytes)
	var text string
	if n > 0 {
		text = string(unsafe.Slice(msg, n))
	}
	b.logRecord(current(b), slog.Level(int32(level)), text, truncated)
	return 0
}

// logRecord delivers one module record (from in process or a worker).
func (b *hostBinding) logRecord(r *hostRec, level slog.Level, msg string, truncated bool) {
	defer func() {
		if recover() != nil { // a handler's panic must not unwind into C
			b.counters.dropped.Add(1)
		}
	}()
	l := b.rt.logger()
	ctx := context.Context(&b.bare)
	if r != nil {
		ctx = &r.hctx
	}
	if !l.Enabled(ctx, level) {
		return
	}
	// A Record keeps up to five attributes inline: no allocation for them.
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.AddAttrs(slog.String("module", b.module), b.handleAttr(), slog.Uint64("generation", b.gen))
	if r != nil {
		rec.AddAttrs(slog.String("method", r.hctx.caller.Method))
	}
	if truncated {
		rec.AddAttrs(slog.Bool("truncated", true))
	}
	if err := l.Handler().Handle(ctx, rec); err != nil {
		b.counters.dropped.Add(1)
		return
	}
	b.counters.logs.Add(1)
}

// hostCall is the call callback of every module.
func hostCall(ctx, id uintptr, args *byte, argsLen uintptr, out *byte, outCap uintptr, outLen *uintptr) uintptr {
	b, _ := route(ctx)
	if b == nil {
		return codeResult(abi.CodeUnknownMethod)
	}
	f := b.funcs[uint32(id)]
	if f == nil {
		b.counters.unknown[hostUnknown].Add(1)
		return codeResult(abi.CodeUnknownMethod)
	}
	if outLen == nil || (args == nil && argsLen != 0) || (out == nil && outCap != 0) ||
		argsLen > uintptr(b.maxArgs) {
		f.count[hostInvalid].Add(1)
		return codeResult(abi.CodeInvalidArgs)
	}
	var a, o []byte
	if argsLen > 0 {
		a = unsafe.Slice(args, argsLen)
	}
	if outCap > 0 {
		o = unsafe.Slice(out, min(outCap, uintptr(b.maxOut)))[:0]
	}
	n, code := b.serve(current(b), f, uint32(id), a, o, b.maxOut)
	*outLen = uintptr(n)
	return codeResult(code)
}

// codeResult widens a result code for the callback's return register.
func codeResult(c int32) uintptr { return uintptr(int64(c)) }

// serve runs host function f for a module (r is the call it is made in,
// or nil) and leaves the result, or the error message, in out's capacity.
// It returns the length to report and the code. The caller has checked
// args and out. limit bounds the results that can be delivered at all.
func (b *hostBinding) serve(r *hostRec, f *boundFn, id uint32, args, out []byte, limit int) (int, int32) {
	if b.heldN.Load() != 0 {
		if res, ok := b.takeHeld(r, id, args, cap(out)); ok {
			if len(res) > cap(out) {
				f.count[hostTooSmall].Add(1)
				return len(res), abi.CodeOutputTooSmall
			}
			f.count[hostOK].Add(1)
			return copy(out[:cap(out)], res), 0
		}
	}
	ctx := context.Context(&b.bare)
	if r != nil {
		ctx = &r.hctx
	}
	res, panicked, err := callHostFunc(ctx, f.fn, args, out)
	switch {
	case panicked != nil:
		f.count[hostPanicked].Add(1)
		b.logPanic(r, f.name, panicked)
		return copy(out[:cap(out)], "host function panicked"), abi.CodePanicked
	case err != nil:
		f.count[hostError].Add(1)
		return copy(out[:cap(out)], err.Error()), abi.CodeGeneral
	case len(res) > limit:
		f.count[hostError].Add(1)
		return copy(out[:cap(out)], fmt.Sprintf("host function result of %d bytes exceeds the limit of %d", len(res), limit)), abi.CodeGeneral
	case len(res) > cap(out):
		b.hold(r, id, args, res)
		f.count[hostTooSmall].Add(1)
		return len(res), abi.CodeOutputTooSmall
	}
	f.count[hostOK].Add(1)
	if len(res) > 0 && (len(out) == 0 || unsafe.SliceData(res) != unsafe.SliceData(out[:1])) {
		copy(out[:len(res)], res) // returned elsewhere than out: copy (overlap-safe)
	}
	return len(res), 0
}

// callHostFunc runs fn, turning a panic into a value.
func callHostFunc(ctx context.Context, fn HostFunc, args, out []byte) (res []byte, panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
			if panicked == nil {
				panicked = "nil"
			}
		}
	}()
	res, err = fn(ctx, args, out)
	return res, nil, err
}

func (b *hostBinding) logPanic(r *hostRec, name string, p any) {
	attrs := []slog.Attr{slog.String("module", b.module), b.handleAttr(), slog.Uint64("generation", b.gen)}
	if r != nil {
		attrs = append(attrs, slog.String("method", r.hctx.caller.Method))
	}
	attrs = append(attrs, slog.String("function", name), slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
	b.rt.logger().LogAttrs(context.Background(), slog.LevelError, "memlink: host function panicked", attrs...)
}

// hold keeps a result that did not fit for the module's retry.
func (b *hostBinding) hold(r *hostRec, id uint32, args, res []byte) {
	h := &heldResult{rec: r, id: id, args: bytes.Clone(args), result: bytes.Clone(res), at: time.Now()}
	if r != nil {
		h.recSeq = r.seq
		r.held = true
	}
	b.heldMu.Lock()
	defer b.heldMu.Unlock()
	if b.state.Load() == bindingRetired {
		return
	}
	b.expireHeld(h.at)
	if len(b.held) >= maxHeld {
		b.held = slices.Delete(b.held, 0, 1)
	}
	b.held = append(b.held, h)
	b.heldN.Store(int32(len(b.held)))
}

// takeHeld hands over a held result for the same call, function and
// args; one that still does not fit stays held.
func (b *hostBinding) takeHeld(r *hostRec, id uint32, args []byte, capacity int) ([]byte, bool) {
	b.heldMu.Lock()
	defer b.heldMu.Unlock()
	b.expireHeld(time.Now())
	for i, h := range b.held {
		if h.id != id || h.rec != r || (r != nil && h.recSeq != r.seq) || !bytes.Equal(h.args, args) {
			continue
		}
		if len(h.result) <= capacity {
			b.held = slices.Delete(b.held, i, i+1)
			b.heldN.Store(int32(len(b.held)))
		}
		return h.result, true
	}
	return nil, false
}

// expireHeld drops results held outside any call for longer than heldTTL.
func (b *hostBinding) expireHeld(now time.Time) {
	b.held = slices.DeleteFunc(b.held, func(h *heldResult) bool { return h.rec == nil && now.Sub(h.at) > heldTTL })
	b.heldN.Store(int32(len(b.held)))
}

// dropHeld forgets the results held for call r, which has ended.
func (b *hostBinding) dropHeld(r *hostRec) {
	r.held = false
	b.heldMu.Lock()
	defer b.heldMu.Unlock()
	b.held = slices.DeleteFunc(b.held, func(h *heldResult) bool { return h.rec == r })
	b.heldN.Store(int32(len(b.held)))
}

// callHosted is a call on a module bound to the host: the call is recorded
// for the host calls it makes.
func (in *instance) callHosted(ctx context.Context, li int, dst []byte, method string, args []byte) ([]byte, error) {
	r := in.host.enter(ctx, li, method)
	var out []byte
	var err error
	if n := in.native; n != nil {
		out, err = n.call(li, dst, method, args)
	} else {
		if ctx == nil {
			ctx = context.Background()
		}
		if r.prev != nil && r.prev.b == in.host {
			// Made from a host function serving a call on this very
			// module: waiting for a slot could wait for itself.
			ctx = isolate.Nested(ctx)
		}
		out, err = in.iso.call(ctx, dst, method, args)
	}
	in.host.exit(r, li)
	return out, err
}

// hostStats returns the instance's host-call and log counts.
func (in *instance) hostStats() ([]HostCallCount, uint64, uint64) {
	if in.host == nil {
		return nil, 0, 0
	}
	c := in.host.counters
	dropped := c.dropped.Load()
	if in.iso != nil {
		dropped += in.iso.c.LogsLost() // from the module's own threads, in the worker
	}
	return c.snapshot(), c.logs.Load(), dropped
}

// hostInherit is what a reload of handle h carries over from in: the
// handle, its counters and its own grants (unless the reload gives its
// own).
func (in *instance) hostInherit(h Handle) hostLoad {
	hl := in.binding.seed()
	hl.handle, hl.set = h, false
	return hl
}

// seed is what the instance of b keeps for its reloads.
func (b *hostBinding) seed() hostLoad {
	if b == nil {
		return hostLoad{}
	}
	return hostLoad{funcs: b.own, counters: b.counters}
}

// atomicRec holds a lane's record.
type atomicRec = atomic.Pointer[hostRec]
