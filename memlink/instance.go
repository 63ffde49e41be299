package memlink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/arena"
	"github.com/memlink/memlink-go/hotreload"
)

// Error kinds counted per module (see ModuleStats.Errors).
const (
	errKindCode      = iota // the module returned a non-zero code
	errKindPanicked         // code -5
	errKindCorrupted        // canary overwritten or output length lie
	numErrKinds
)

// numBuckets is the number of finite buckets of the call-duration
// duration histogram (calls, loads, reloads); Histogram.Bounds lists them.
const numBuckets = 13

// callBuckets are the upper bounds, in seconds, of the sampled
// call-duration histogram (ModuleStats.Latency): 100ns times powers of 4.
var callBuckets = [numBuckets]float64{
	100e-9, 400e-9, 1.6e-6, 6.4e-6, 25.6e-6, 102.4e-6, 409.6e-6,
	1.6384e-3, 6.5536e-3, 26.2144e-3, 104.8576e-3, 419.4304e-3, 1.6777216,
}

// lifecycleBuckets are the upper bounds, in seconds, of the load and reload
// duration histograms, which take from tens of microseconds to a drain
// timeout.
var lifecycleBuckets = [numBuckets]float64{
	100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 1, 10, 60,
}

var callBucketNanos, lifecycleBucketNanos = nanos(&callBuckets), nanos(&lifecycleBuckets)

func nanos(bounds *[numBuckets]float64) *[numBuckets]int64 {
	var ns [numBuckets]int64
	for i, b := range bounds {
		ns[i] = int64(b * 1e9)
	}
	return &ns
}

// counters are the error and latency statistics of the calls made through
// one lane. A lane's owner updates them with a plain load and store (it is
// the only writer); shared counters (the overflow lane) use atomic adds.
// The gate counts the calls themselves.
type counters struct {
	errs     [numErrKinds]atomic.Uint64
	hist     [numBuckets + 1]atomic.Uint64
	sumNanos atomic.Uint64
}

func bump(c *atomic.Uint64, shared bool, n uint64) {
	if shared {
		c.Add(n)
		return
	}
	c.Store(c.Load() + n)
}

func (c *counters) observe(d time.Duration, shared bool, bounds *[numBuckets]int64) {
	ns := int64(d)
	i := 0
	for i < len(bounds) && ns > bounds[i] {
		i++
	}
	bump(&c.hist[i], shared, 1)
	bump(&c.sumNanos, shared, uint64(max(ns, 0)))
}

// addTo accumulates c into the plain totals t.
func (c *counters) addTo(t *totals) {
	for i := range c.errs {
		t.errs[i] += c.errs[i].Load()
	}
	for i := range c.hist {
		t.hist[i] += c.hist[i].Load()
	}
	t.sumNanos += c.sumNanos.Load()
}

// totals is a plain snapshot of counters.
type totals struct {
	calls    uint64
	errs     [numErrKinds]uint64
	hist     [numBuckets + 1]uint64
	sumNanos uint64
	restarts [numRestartReasons]uint64 // isolated modules' lost workers
}

func (t *totals) add(o *totals) {
	t.calls += o.calls
	for i := range t.errs {
		t.errs[i] += o.errs[i]
	}
	for i := range t.restarts {
		t.restarts[i] += o.restarts[i]
	}
	for i := range t.hist {
		t.hist[i] += o.hist[i]
	}
	t.sumNanos += o.sumNanos
}

// laneBody is what a call owns while it holds a lane.
type laneBody struct {
	out    unsafe.Pointer // output buffer, outCap bytes, canary after it
	outLen unsafe.Pointer // a uintptr cell for memlink_call_v2's out_len
	c      *counters      // own, or the instance's shared overflow counters
	frame  abi.Frame      // the C call's argument block, reused
	shared bool
	armed  bool   // canary written
	tick   uint32 // calls since the last latency sample

	lastName *byte // data of the method name of the lane's last call
	lastLen  int
	lastID   uint32
	own      counters
}

// lane pads laneBody to a multiple of 128 bytes so two lanes never share a
// cache line (or an adjacent-line prefetch pair).
type lane struct {
	laneBody
	_ [(128 - unsafe.Sizeof(laneBody{})%128) % 128]byte
}

// spareLane is a heap-backed lane for calls beyond the gate's lanes.
type spareLane struct {
	lane
	mem []byte
}

const canarySize = 16

// instance is one loaded version of a module: the library, its bound
// exports, its gate and its call buffers. A handle points to one instance at
// a time; hot reload swaps it.
type instance struct {
	path    string       // file opened
	origin  string       // file the private copy was made from ("" when not a copy)
	private *privateFile // the private copy, released when the instance closes
	file    string       // base name, for messages
	gen     uint64
	lib     *abi.Library
	mod     *abi.Module
	gate    *hotreload.Gate
	mem     *arena.Arena
	lanes   []atomic.Pointer[lane] // by gate lane index, created on first use
	bufs    []byte                 // the lanes' output buffers, one stride each

	outCap      int
	maxOutput   int
	sampleEvery uint32
	canary      [canarySize]byte
	corrupted   atomic.Bool

	spare      sync.Pool // *spareLane
	spareStats counters

	iso *isoInstance // set when the module runs in a worker process (isolation.go)
}

// openInstance opens, binds and initialises the module at path, which the
// caller has validated. name is the file errors speak of: path itself, or
// the original of a private copy.
func openInstance(o *options, path, name string, config []byte, gen uint64) (*instance, error) {
	lib, err := abi.OpenAs(path, name)
	if err != nil {
		return nil, err
	}
	mod, err := abi.Bind(lib)
	if err != nil {
		lib.Close()
		return nil, err
	}
	in := &instance{
		path:        path,
		file:        filepath.Base(path),
		gen:         gen,
		lib:         lib,
		mod:         mod,
		gate:        hotreload.NewGate(o.lanes),
		outCap:      o.outputCap,
		maxOutput:   o.maxOutput,
		sampleEvery: o.sampleEvery,
	}
	// Random bytes with the high bit set: no text or NUL byte a module
	// writes past its buffer can match one by chance.
	for i := range in.canary {
		in.canary[i] = byte(rand.Uint32()) | 0x80
	}
	if err := in.allocLanes(); err != nil {
		lib.Close()
		return nil, err
	}
	in.spare.New = in.newSpare
	if rc := mod.Init(config); rc != 0 {
		_ = in.release() // the init failure is the error to report
		return nil, fmt.Errorf("%w: %s returned %d (%s)", ErrInitFailed, name, rc, abi.CodeText(rc))
	}
	return in, nil
}

// stride is the arena footprint of one lane: the buffer, the canary and the
// out_len cell, rounded to a cache line.
func (in *instance) stride() int {
	return (in.outCap + canarySize + 8 + 63) &^ 63
}

func (in *instance) allocLanes() error {
	n := in.gate.Lanes()
	stride := in.stride()
	// One spare page at the end keeps a small overrun of the last lane
	// inside the mapping, where the canary reports it.
	mem, err := arena.New(n*stride + arena.PageSize())
	if err != nil {
		return fmt.Errorf("memlink: reserving call buffers: %w", err)
	}
	bufs, err := mem.Alloc(n*stride, 64)
	if err != nil {
		mem.Close()
		return fmt.Errorf("memlink: reserving call buffers: %w", err)
	}
	in.mem, in.bufs = mem, bufs
	in.lanes = make([]atomic.Pointer[lane], n)
	return nil
}

// newLane creates lane i on its first call. Only the call holding gate
// lane i gets here, so nothing else can be creating it at the same time.
// Lanes a module never uses cost neither memory nor the pages of their
// buffers.
func (in *instance) newLane(i int) *lane {
	b := in.bufs[i*in.stride():]
	l := &lane{}
	l.out = unsafe.Pointer(&b[0])
	l.outLen = unsafe.Pointer(&b[in.outCap+canarySize])
	l.c = &l.own
	in.lanes[i].Store(l)
	return l
}

func (in *instance) newSpare() any {
	s := &spareLane{mem: make([]byte, in.stride())}
	s.out = unsafe.Pointer(&s.mem[0])
	s.outLen = unsafe.Pointer(&s.mem[in.outCap+canarySize])
	s.c = &in.spareStats
	s.shared = true
	copy(s.mem[in.outCap:], in.canary[:])
	s.armed = true
	return s
}

// release shuts nothing down: it frees what openInstance acquired. The
// caller has drained the instance (or never admitted a call).
func (in *instance) release() error {
	err := in.lib.Close()
	if in.mem != nil {
		err = errors.Join(err, in.mem.Close())
	}
	if in.private != nil {
		err = errors.Join(err, in.private.remove())
	}
	return err
}

// shutdown calls memlink_shutdown and releases the library and buffers. It
// must only run once the gate is closed and drained.
func (in *instance) shutdown() error {
	if in.iso != nil {
		return in.shutdownIsolated()
	}
	var err error
	if rc := in.mod.Shutdown(); rc != 0 {
		err = fmt.Errorf("memlink: %s: memlink_shutdown returned %d (%s)", in.path, rc, abi.CodeText(rc))
	}
	return errors.Join(err, in.release())
}

// totals sums the counters of every lane. Calls are counted by the gate.
func (in *instance) totals() totals {
	t := totals{calls: in.gate.Calls()}
	for i := range in.lanes {
		if l := in.lanes[i].Load(); l != nil {
			l.own.addTo(&t)
		}
	}
	in.spareStats.addTo(&t)
	t.restarts = in.restarts()
	return t
}

func (in *instance) canaryIntact(out unsafe.Pointer) bool {
	got := unsafe.Slice((*byte)(unsafe.Add(out, in.outCap)), canarySize)
	return binary.LittleEndian.Uint64(got) == binary.LittleEndian.Uint64(in.canary[:8]) &&
		binary.LittleEndian.Uint64(got[8:]) == binary.LittleEndian.Uint64(in.canary[8:])
}

// call runs one call on the lane the gate gave it and appends the result to
// dst. It is the hot path: no locks, no clock reads except on sampled calls,
// no allocations unless dst must grow.
func (in *instance) call(laneIndex int, dst []byte, method string, args []byte) ([]byte, error) {
	if in.iso != nil {
		return in.callWorker(dst, method, args)
	}
	if in.corrupted.Load() {
		in.spareStats.errs[errKindCorrupted].Add(1) // quarantined calls count as corrupted
		return dst, in.corruptErr(method, "an earlier call")
	}
	var l *lane
	var spare *spareLane
	if laneIndex >= 0 {
		if l = in.lanes[laneIndex].Load(); l == nil {
			l = in.newLane(laneIndex)
		}
	} else {
		spare = in.spare.Get().(*spareLane)
		l = &spare.lane
	}
	if !l.armed {
		copy(unsafe.Slice((*byte)(unsafe.Add(l.out, in.outCap)), canarySize), in.canary[:])
		l.armed = true
	}
	sample, start := false, int64(0)
	if in.sampleEvery != 0 {
		l.tick++
		if l.tick >= in.sampleEvery {
			l.tick = 0
			sample, start = true, nanotime()
		}
	}
	// Callers nearly always pass the same string (a literal) again: reuse
	// its id when the string is the very same one as last time on this lane.
	id := l.lastID
	if unsafe.StringData(method) != l.lastName || len(method) != l.lastLen {
		id = abi.MethodID(method)
		l.lastName, l.lastLen, l.lastID = unsafe.StringData(method), len(method), id
	}
	// The C call and the common outcomes are written out here rather than
	// in a function per ABI: one call level less is worth about a
	// nanosecond on a path that costs fifty.
	var rc int32
	v2 := in.mod.Version >= abi.Version2
	if v2 {
		*(*uintptr)(l.outLen) = 0
		rc = in.mod.CallV2(&l.frame, id, args, l.out, uintptr(in.outCap), l.outLen)
	} else {
		rc = in.mod.Call(&l.frame, id, args, l.out)
	}
	var err error
	switch {
	case !in.canaryIntact(l.out):
		err = in.corrupt(l, method, fmt.Sprintf("wrote past its %d-byte output buffer", in.outCap))
	case v2:
		if n := *(*uintptr)(l.outLen); rc == 0 && n <= uintptr(in.outCap) {
			dst = append(dst, unsafe.Slice((*byte)(l.out), n)...)
		} else {
			dst, err = in.finishV2(l, dst, method, id, args, rc, n)
		}
	default:
		// ABI 1: the output is what precedes the first NUL.
		buf := unsafe.Slice((*byte)(l.out), in.outCap)
		n := bytes.IndexByte(buf, 0)
		if n < 0 {
			n = len(buf)
		}
		if rc == 0 {
			dst = append(dst, buf[:n]...)
		} else {
			err = in.codeErr(l, method, rc, string(buf[:n]))
		}
		scrub(buf, n, len(args))
	}
	if sample {
		l.c.observe(time.Duration(nanotime()-start), l.shared, callBucketNanos)
	}
	if spare != nil && !in.corrupted.Load() {
		in.spare.Put(spare)
	}
	return dst, err
}

// scrubWindow is how far past the output scrub looks for stray bytes.
const scrubWindow = 64

// scrub leaves an ABI-1 output buffer zeroed for the next call, whose output
// ends at the first NUL, at a cost in proportion to what this call wrote:
// the output (n bytes), or as many bytes as the input had (an echo writes
// its input without a terminator), and, if anything non-zero lies in the
// next scrubWindow bytes (a module that wrote past its own terminator), the
// whole buffer.
func scrub(buf []byte, n, argsLen int) {
	end := min(max(n, argsLen), len(buf))
	clear(buf[:end])
	if !allZero(buf[end:min(end+scrubWindow, len(buf))]) {
		clear(buf[end:])
	}
}

// zeroWindow is what scrub compares the bytes past an output with.
var zeroWindow [scrubWindow]byte

// allZero reports whether b, at most scrubWindow bytes, holds only zeros
// (a vectorised comparison: about twice as fast as a loop of words).
func allZero(b []byte) bool { return string(b) == string(zeroWindow[:len(b)]) }

// finishV2 handles the outcomes of an ABI-2 call other than success with
// an output that fit: a module error, a request for a larger buffer
// (retried once) or an out_len larger than the buffer.
func (in *instance) finishV2(l *lane, dst []byte, method string, id uint32, args []byte, rc int32, n uintptr) ([]byte, error) {
	buf := unsafe.Slice((*byte)(l.out), in.outCap)
	switch {
	case rc == 0:
		return dst, in.corrupt(l, method, fmt.Sprintf("reported %d output bytes in a %d-byte buffer", n, in.outCap))
	case rc == abi.CodeOutputTooSmall && n > uintptr(in.outCap):
		return in.callV2Large(l, dst, method, id, args, n)
	case rc == abi.CodeHandedOver && in.mod.HandsOver():
		return in.takeOutput(l, dst, method, l.out, n)
	}
	return dst, in.codeErr(l, method, rc, string(buf[:min(n, uintptr(in.outCap))]))
}

// takeOutput appends a result the module handed over (a descriptor of n
// bytes at out, see docs/abi.md) to dst and gives the module its buffer
// back, also when the result is refused for its size.
func (in *instance) takeOutput(l *lane, dst []byte, method string, out unsafe.Pointer, n uintptr) ([]byte, error) {
	h, ok := abi.ReadHandedOutput(out, n)
	if !ok {
		if n != abi.HandedOutputSize {
			return dst, in.corrupt(l, method, fmt.Sprintf("handed an output over with a %d-byte descriptor (want %d)", n, abi.HandedOutputSize))
		}
		return dst, in.corrupt(l, method, fmt.Sprintf("handed over %d output bytes at a null address", h.Len))
	}
	defer in.mod.ReleaseOutput(&l.frame, h)
	if h.Len > uintptr(in.maxOutput) {
		return dst, fmt.Errorf("%w: %s: method %q handed over %d bytes; the limit is %d (WithMaxOutput)",
			ErrOutputTooLarge, in.file, method, h.Len, in.maxOutput)
	}
	return append(dst, h.Bytes()...), nil
}

// callV2Large retries a call whose output did not fit, once, writing
// straight into dst's grown tail.
func (in *instance) callV2Large(l *lane, dst []byte, method string, id uint32, args []byte, need uintptr) ([]byte, error) {
	if need > uintptr(in.maxOutput) {
		// The host refuses here, not the module: no module error is counted.
		return dst, fmt.Errorf("%w: %s: method %q asked for %d bytes; the limit is %d (WithMaxOutput)",
			ErrOutputTooLarge, in.file, method, need, in.maxOutput)
	}
	base := len(dst)
	dst = slices.Grow(dst, int(need))
	tail := dst[base : base+int(need)]
	outLen := (*uintptr)(l.outLen)
	*outLen = 0
	rc := in.mod.CallV2(&l.frame, id, args, unsafe.Pointer(&tail[0]), need, l.outLen)
	n := *outLen
	if rc == abi.CodeHandedOver && in.mod.HandsOver() {
		return in.takeOutput(l, dst[:base], method, unsafe.Pointer(&tail[0]), n)
	}
	if rc == 0 {
		if n > need {
			return dst[:base], in.corrupt(l, method, fmt.Sprintf("reported %d output bytes in a %d-byte buffer", n, need))
		}
		return dst[:base+int(n)], nil
	}
	msg := ""
	if rc != abi.CodeOutputTooSmall {
		msg = string(tail[:min(n, need)])
	}
	return dst[:base], in.codeErr(l, method, rc, msg)
}

func (in *instance) codeErr(l *lane, method string, rc int32, msg string) error {
	kind := errKindCode
	if rc == abi.CodePanicked {
		kind = errKindPanicked
	}
	bump(&l.c.errs[kind], l.shared, 1)
	return &CallError{Module: in.file, Method: method, Code: rc, Message: msg}
}

func (in *instance) corrupt(l *lane, method, what string) error {
	in.corrupted.Store(true)
	bump(&l.c.errs[errKindCorrupted], l.shared, 1)
	return in.corruptErr(method, what)
}

func (in *instance) corruptErr(method, what string) error {
	return fmt.Errorf("%w: %s: method %q: %s; reload or unload the module", ErrModuleCorrupted, in.file, method, what)
}

// source is the file the instance was loaded from: the original of a
// private copy.
func (in *instance) source() string {
	if in.origin != "" {
		return in.origin
	}
	return in.path
}
