package memlink

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/arena"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/gate"
)

// This file is the whole behaviour of a module loaded in process: its
// library, its call buffers (one lane per gate lane, each followed by a
// canary) and the call path.

// laneBody is what a call owns while it holds a lane.
type laneBody struct {
	n      *nativeModule  // the module the lane belongs to
	buf    []byte         // output buffer, len and cap outCap, canary after it
	outLen unsafe.Pointer // a uintptr cell for memlink_call_v2's out_len
	c      *counters      // own, or the module's shared counters
	frame  callpath.Frame // the C call's argument block, reused
	shared bool
	tick   uint32 // calls left until the next latency sample

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
	// seq is odd while a call uses the lane, a new odd value for each
	// call, like a gate lane's: taken by compare-and-swap, and the source
	// of the frame's return mark.
	seq    atomic.Uint64
	listed bool // in the module's list; a spare beyond its bound is not
}

// spares are a module's spare lanes, every one it has made: free ones are
// taken by compare-and-swap like gate lanes, so that calls beyond the
// gate's lanes share no lock, and a drain can see every one in use (see
// nativeModule.left). Their number is the most calls that have been beyond
// the gate's lanes at once, up to maxSpares; they live as long as the
// module. A call that finds all of those in use gets a spare of its own,
// unlisted and without a return mark, which the garbage collector takes
// after it: a drain then counts that call as in the module until it
// leaves the gate.
type spares struct {
	mu  sync.Mutex // serialises adding one
	all atomic.Pointer[[]*spareLane]
}

const canarySize = 16

// nativeModule is a module loaded into this process.
type nativeModule struct {
	moduleBase
	lib    *callpath.Library
	mod    *callpath.Module
	mem    *arena.Arena
	gate   *gate.Gate             // the instance's gate, whose lane words the frames mark
	lanes  []atomic.Pointer[lane] // by gate lane index, created on first use
	bufs   []byte                 // the lanes' output buffers, one stride each
	canary [canarySize]byte
	spare  spares
}

// openNative opens, binds and initialises the module at path, which the
// caller has validated, with lanes call buffers. name is the file errors
// speak of: path itself, or the original of a private copy. ex is what the
// validation read of the file's exports (unknown: every one is looked up).
func openNative(o *options, path, name string, ex abi.Exports, config []byte, lanes int, hb *hostBinding) (*nativeModule, error) {
	lib, err := callpath.OpenAs(path, name)
	if err != nil {
		return nil, err
	}
	mod, err := callpath.BindExports(lib, ex)
	if err != nil {
		lib.Close()
		return nil, err
	}
	n := &nativeModule{moduleBase: newModuleBase(o, name), lib: lib, mod: mod}
	// Random bytes with the high bit set: no text or NUL byte a module
	// writes past its buffer can match one by chance.
	for i := range n.canary {
		n.canary[i] = byte(rand.Uint32()) | 0x80
	}
	if err := n.allocLanes(lanes); err != nil {
		lib.Close()
		return nil, err
	}
	if err := hb.bind(mod, n.file, lanes); err != nil {
		_ = n.release() // the bind failure is the error to report
		return nil, err
	}
	if rc := mod.Init(config); rc != 0 {
		hb.retire()
		_ = n.release() // the init failure is the error to report
		return nil, fmt.Errorf("%w: %s returned %d (%s)", ErrInitFailed, n.file, rc, abi.CodeText(rc))
	}
	return n, nil
}

// stride is the arena footprint of one lane: the buffer, the canary and the
// out_len cell, rounded to a cache line.
func (n *nativeModule) stride() int {
	return (n.outCap + canarySize + 8 + 63) &^ 63
}

func (n *nativeModule) allocLanes(count int) error {
	stride := n.stride()
	size := laneArenaSize(count, stride)
	mem := takeArena(size) // cleared by the module that gave it back (lanepool.go)
	if mem != nil {
		mem.Reset()
	} else {
		var err error
		if mem, err = arena.New(size); err != nil {
			return fmt.Errorf("reserving call buffers: %w", err)
		}
	}
	bufs, err := mem.Alloc(count*stride, 64)
	if err != nil {
		mem.Close()
		return fmt.Errorf("reserving call buffers: %w", err)
	}
	n.mem, n.bufs = mem, bufs
	n.lanes = make([]atomic.Pointer[lane], count)
	return nil
}

// newLane creates lane i on its first call. Only the call holding gate
// lane i gets here, so nothing else can be creating it at the same time.
// Lanes a module never uses cost neither memory nor the pages of their
// buffers.
func (n *nativeModule) newLane(i int) *lane {
	b := n.bufs[i*n.stride():]
	l := &lane{}
	l.n = n
	l.buf = b[:n.outCap:n.outCap]
	l.outLen = unsafe.Pointer(&b[n.outCap+canarySize])
	l.c = &l.own
	l.tick = n.firstSample()
	copy(b[n.outCap:n.outCap+canarySize], n.canary[:])
	l.frame.MarkReturns(n.gate.SeqWord(i), n.finalMask())
	n.lanes[i].Store(l)
	return l
}

// finalMask is the mask of results after which a call on this module makes
// no further C call (callpath.Frame.MarkReturns): any result of an ABI-1
// call; only 0 for ABI 2, whose calls may retry with a larger buffer or
// release a result handed over.
func (n *nativeModule) finalMask() uint32 {
	if n.mod.Version >= abi.Version2 {
		return ^uint32(0)
	}
	return 0
}

func (n *nativeModule) newSpare() *spareLane {
	s := &spareLane{mem: make([]byte, n.stride())}
	s.n = n
	s.buf = s.mem[:n.outCap:n.outCap]
	s.outLen = unsafe.Pointer(&s.mem[n.outCap+canarySize])
	s.c = &n.shared
	s.shared = true
	s.tick = n.firstSample()
	copy(s.mem[n.outCap:], n.canary[:])
	s.frame.MarkReturns((*uint64)(unsafe.Pointer(&s.seq)), n.finalMask())
	return s
}

// list returns the spare lanes made so far.
func (p *spares) list() []*spareLane {
	if l := p.all.Load(); l != nil {
		return *l
	}
	return nil
}

// getSpare takes a free spare lane for one call, or makes one. The search
// starts at a point that differs between goroutines (their stacks), so
// that concurrent callers rarely try the same lane.
func (n *nativeModule) getSpare() *spareLane {
	list := n.spare.list()
	if k := uint32(len(list)); k > 0 {
		var probe byte
		start := uint32(uintptr(unsafe.Pointer(&probe))>>10) % k
		for i := range k {
			s := list[(start+i)%k]
			if v := s.seq.Load(); v&1 == 0 && s.seq.CompareAndSwap(v, v+1) {
				return s
			}
		}
	}
	s := n.newSpare()
	s.seq.Store(1)
	p := &n.spare
	p.mu.Lock()
	if l := p.list(); len(l) < n.maxSpares() {
		grown := append(slices.Clone(l), s)
		p.all.Store(&grown)
		s.listed = true
	} else {
		s.frame.MarkReturns(nil, 0)
	}
	p.mu.Unlock()
	return s
}

// putSpare ends the call on s, which becomes free for another.
func (n *nativeModule) putSpare(s *spareLane) {
	if s.listed {
		s.seq.Add(1)
	}
}

// maxSpares bounds the spare lanes a module keeps: four per gate lane, and
// no more than 8 MiB of them (but at least 8).
func (n *nativeModule) maxSpares() int {
	return max(8, min(4*len(n.lanes), (8<<20)/n.stride()))
}

// left reports whether every call in flight has made its last C call, so
// that the library may be shut down and closed while they finish in Go
// (the first phase of a drain: see docs/design.md). Only the trampoline
// marks calls (callpath.MarksReturns); elsewhere it reports false and the
// drain waits for the calls to leave the gate. The gate must be closed.
//
// A gate lane held by a call counts when the lane's frame is marked with
// the lane's current sequence word, which names that very call. Calls
// without a lane are compared by number: the gate's count of them
// against the spare lanes in use whose mark names their current call. A
// call between entering the gate and taking its spare (or between giving
// it back and leaving) is in the first count only, so the test errs
// towards waiting.
func (n *nativeModule) left() bool {
	if !callpath.MarksReturns {
		return false
	}
	g := n.gate
	for i := range n.lanes {
		seq := g.LaneSeq(i)
		if seq&1 == 0 {
			continue
		}
		if l := n.lanes[i].Load(); l == nil || l.frame.Returned() != seq {
			return false
		}
	}
	over := g.OverflowInFlight()
	if over == 0 {
		return true
	}
	done := 0
	for _, s := range n.spare.list() {
		if seq := s.seq.Load(); seq&1 == 1 && s.frame.Returned() == seq {
			done++
		}
	}
	return done >= over
}

// release shuts nothing down: it frees what openNative acquired.
func (n *nativeModule) release() error {
	return errors.Join(n.lib.Close(), n.freeBuffers())
}

// shutdown runs memlink_shutdown and closes the library. The call buffers
// stay: calls that have left the module may still be reading them.
func (n *nativeModule) shutdown() error {
	var err error
	if rc := n.mod.Shutdown(); rc != 0 {
		err = fmt.Errorf("%s: memlink_shutdown returned %d (%s)", n.file, rc, abi.CodeText(rc))
	}
	return errors.Join(err, n.lib.Close())
}

// freeBuffers frees the lanes' call buffers, once no call holds a lane:
// kept for another module or unmapped (freeLanes, lanepool.go). The
// library is closed by then.
func (n *nativeModule) freeBuffers() error { return n.freeLanes() }

func (n *nativeModule) addTotals(t *totals) {
	for i := range n.lanes {
		if l := n.lanes[i].Load(); l != nil {
			l.own.addTo(t)
		}
	}
}

func (n *nativeModule) abandon() {} // a call in this process cannot be stopped

// arenaBytes reports the call-buffer bytes of the lanes calls have used
// so far: the arena reserves room for every lane, but a lane's pages
// become memory only when a call first writes them.
func (n *nativeModule) arenaBytes() int {
	made := 0
	for i := range n.lanes {
		if n.lanes[i].Load() != nil {
			made++
		}
	}
	return made * n.stride()
}

func (n *nativeModule) hasState() bool { return n.mod.HasState() }

func (n *nativeModule) saveState() ([]byte, error) {
	size := n.mod.StateSize()
	if size > maxStateBytes {
		return nil, fmt.Errorf("%w: %s reports %d bytes of state", hotreload.ErrStateTransfer, n.file, size)
	}
	buf := make([]byte, size+guardSize)
	state, guard := buf[:size:size], buf[size:]
	n.arm(guard)
	rc := n.mod.SerializeState(state)
	if !n.intact(guard) {
		n.markCorrupted("memlink_serialize_state", "wrote past its state buffer")
		n.shared.errs[errKindCorrupted].Add(1)
		return nil, fmt.Errorf("%w: %w", hotreload.ErrStateTransfer,
			n.corruptErr("memlink_serialize_state", fmt.Sprintf("wrote past its %d-byte state buffer", size)))
	}
	if rc != 0 {
		return nil, fmt.Errorf("%w: %s: memlink_serialize_state returned %d", hotreload.ErrStateTransfer, n.file, rc)
	}
	return state, nil
}

func (n *nativeModule) restoreState(state []byte) error {
	if rc := n.mod.DeserializeState(state); rc != 0 {
		return fmt.Errorf("%w: %s: memlink_deserialize_state returned %d", hotreload.ErrStateTransfer, n.file, rc)
	}
	return nil
}

// guardSize is the guard that follows every heap buffer a module writes
// (the buffer of a -4 retry, the state buffer): it is filled with the
// canary and checked whole, so an overrun of up to guardSize bytes is
// caught before it reaches other memory. A module that writes further
// still trips it, but has already written over whatever lay beyond; only
// isolation contains that.
const guardSize = 256

// arm fills g with copies of the canary.
func (n *nativeModule) arm(g []byte) {
	for i := 0; i < len(g); i += canarySize {
		copy(g[i:], n.canary[:])
	}
}

// intact reports whether g still holds what arm wrote.
func (n *nativeModule) intact(g []byte) bool {
	for i := 0; i < len(g); i += canarySize {
		if string(g[i:min(i+canarySize, len(g))]) != string(n.canary[:min(canarySize, len(g)-i)]) {
			return false
		}
	}
	return true
}

// canaryIntact reports whether the canary after the output buffer at out
// is still there: two word loads and compares (no slice, no bounds check).
func (n *nativeModule) canaryIntact(out unsafe.Pointer) bool {
	p := unsafe.Add(out, n.outCap)
	return loadWord(p) == loadWord(unsafe.Pointer(&n.canary[0])) &&
		loadWord(unsafe.Add(p, 8)) == loadWord(unsafe.Pointer(&n.canary[8]))
}

// call runs one call on the lane the gate gave it and appends the result to
// dst. It is the hot path: no locks, no clock reads except on sampled calls,
// no allocations unless dst must grow. The call itself is lane.call.
func (n *nativeModule) call(laneIndex int, dst []byte, method string, args []byte) ([]byte, error) {
	if l := n.readyLane(laneIndex); l != nil {
		return l.call(dst, method, args)
	}
	return n.callNewLane(laneIndex, dst, method, args)
}

// readyLane returns gate lane laneIndex if it exists, nil for a lane not
// created yet or a spare (laneIndex < 0). It inlines.
func (n *nativeModule) readyLane(laneIndex int) *lane {
	if laneIndex >= 0 {
		return n.lanes[laneIndex].Load()
	}
	return nil
}

// callNewLane is call on a lane readyLane did not return: a gate lane's
// first call, which creates it, or a spare lane (all gate lanes taken).
func (n *nativeModule) callNewLane(laneIndex int, dst []byte, method string, args []byte) ([]byte, error) {
	if laneIndex >= 0 {
		return n.newLane(laneIndex).call(dst, method, args)
	}
	return n.callSpare(dst, method, args)
}

// callSpare is call with laneIndex < 0 (all gate lanes taken): a spare
// lane from the pool.
func (n *nativeModule) callSpare(dst []byte, method string, args []byte) ([]byte, error) {
	spare := n.getSpare()
	out, err := spare.call(dst, method, args)
	n.putSpare(spare)
	return out, err
}

// call is nativeModule.call on lane l. The lane carries its module, so the
// call passes nine argument words, all in registers on amd64 (the module
// and a lane index would be ten, one on the stack).
//
// Each ABI's C call and its common outcome are written out here rather
// than in a function per ABI, and what few calls need (a latency sample,
// a module error) is out of line: one call level, or one value kept alive
// across the C call, costs every call.
//
// The frame is filled without keep-alive pointers (SetCallUnkept): args
// still escapes to the heap, this function keeps it reachable until C has
// returned (runtime.KeepAlive), and the output buffer needs neither, being
// the arena's memory (outside the Go heap, unmapped only once no call
// holds a lane) or a spare lane's, which the caller holds.
func (l *lane) call(dst []byte, method string, args []byte) ([]byte, error) {
	n := l.n
	if n.corrupted.Load() {
		return dst, n.quarantined(method)
	}
	// A countdown: one decrement and a test on the calls not sampled.
	if l.tick--; l.tick == 0 {
		return l.callSampled(dst, method, args)
	}
	// Callers nearly always pass the same string (a literal) again: reuse
	// its id when the string is the very same one as last time on this lane.
	// From here on l.lastName and l.lastLen are method (see lastMethod).
	id := l.lastID
	if unsafe.StringData(method) != l.lastName || len(method) != l.lastLen {
		id = abi.MethodID(method)
		l.lastName, l.lastLen, l.lastID = unsafe.StringData(method), len(method), id
	}
	if n.mod.Version >= abi.Version2 {
		*(*uintptr)(l.outLen) = 0
		n.mod.SetCallV2Unkept(&l.frame, id, args, l.out(), uintptr(n.outCap), l.outLen)
		rc := l.frame.InvokeUnkept(6)
		runtime.KeepAlive(unsafe.SliceData(args))
		if !n.canaryIntact(l.out()) {
			return dst, n.overran(l)
		}
		if k := *(*uintptr)(l.outLen); rc == 0 && k <= uintptr(n.outCap) {
			return append(dst, unsafe.Slice(unsafe.SliceData(l.buf), k)...), nil
		}
		return n.finishV2(l, dst, l.lastMethod(), id, args, rc, *(*uintptr)(l.outLen))
	}
	n.mod.SetCallUnkept(&l.frame, id, args, l.out())
	rc := l.frame.InvokeUnkept(4)
	runtime.KeepAlive(unsafe.SliceData(args))
	if !n.canaryIntact(l.out()) {
		return dst, n.overran(l)
	}
	if rc != 0 {
		return dst, n.failV1(l, rc, len(args))
	}
	// ABI 1: the output is what precedes the first NUL; takeNUL, written
	// out.
	if k := takeNULFast(&dst, &l.buf, len(args)); k >= 0 {
		dst = takeNULRest(dst, l.buf, len(args), k)
	}
	return dst, nil
}

// out is the address of the lane's output buffer, which the module writes.
func (l *lane) out() unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(l.buf)) }

// lastMethod is the method of the call in progress on l, for the error
// paths after the C call: lane.call leaves it in the method-id cache, and
// reading it back there spares the call path keeping method alive across
// the C call.
func (l *lane) lastMethod() string { return unsafe.String(l.lastName, l.lastLen) }

// callSampled is lane.call for the call the countdown picked: it restarts
// the countdown and, unless sampling is off, times the call.
func (l *lane) callSampled(dst []byte, method string, args []byte) ([]byte, error) {
	n := l.n
	if n.sampleEvery == 0 {
		l.tick = math.MaxUint32
		return l.call(dst, method, args)
	}
	// One more than the interval: lane.call counts this call down first,
	// so the countdown cannot reach zero again in it, even for an interval
	// of 1 (and an interval of MaxUint32 wraps to 0, counted down to
	// MaxUint32).
	l.tick = n.sampleEvery + 1
	start := nanotime()
	dst, err := l.call(dst, method, args)
	l.c.observe(time.Duration(nanotime()-start), l.shared, callBucketNanos)
	return dst, err
}

// overran marks the module corrupted: a call on l wrote past its output
// buffer, over the canary.
func (n *nativeModule) overran(l *lane) error {
	return n.corrupt(l, l.lastMethod(), fmt.Sprintf("wrote past its %d-byte output buffer", n.outCap))
}

// failV1 is the outcome of an ABI-1 call that returned rc != 0: the module's
// error, with the text it wrote as the message, and the buffer scrubbed for
// the next call.
func (n *nativeModule) failV1(l *lane, rc int32, argsLen int) error {
	buf := l.buf
	k := bytes.IndexByte(buf, 0)
	if k < 0 {
		k = len(buf)
	}
	err := n.codeErr(l, l.lastMethod(), rc, string(buf[:k]))
	scrub(buf, k, argsLen)
	return err
}

// firstSample is where a lane's sampling countdown starts: the calls
// left until its first sample, at a random point of the interval (see
// samplePhase).
func (n *nativeModule) firstSample() uint32 {
	return n.sampleEvery - n.samplePhase() // 0 with sampling off: callSampled sees to it
}

// scrubWindow is how far past the output scrub looks for stray bytes.
const scrubWindow = 64

// scrub leaves an ABI-1 output buffer zeroed for the next call, whose output
// ends at the first NUL, at a cost in proportion to what this call wrote:
// the output (n bytes), or as many bytes as the input had (an echo writes
// its input without a terminator), and, if anything non-zero lies in the
// next scrubWindow bytes (a module that wrote past its own terminator), the
// whole buffer.
func scrub(buf []byte, n, argsLen int) { scrubFrom(buf, 0, n, argsLen) }

// scrubFrom is scrub for a buffer whose first from bytes are zero already.
func scrubFrom(buf []byte, from, n, argsLen int) {
	end := min(max(n, argsLen), len(buf))
	clear(buf[from:end])
	if !windowZero(buf[end:min(end+scrubWindow, len(buf))]) {
		clear(buf[end:])
	}
}

// finishV2 handles the outcomes of an ABI-2 call other than success with
// an output that fit: a module error, a request for a larger buffer
// (retried once) or an out_len larger than the buffer.
func (n *nativeModule) finishV2(l *lane, dst []byte, method string, id uint32, args []byte, rc int32, k uintptr) ([]byte, error) {
	buf := l.buf
	switch {
	case rc == 0:
		return dst, n.corrupt(l, method, fmt.Sprintf("reported %d output bytes in a %d-byte buffer", k, n.outCap))
	case rc == abi.CodeOutputTooSmall && k > uintptr(n.outCap):
		return n.callV2Large(l, dst, method, id, args, k)
	case rc == abi.CodeHandedOver && n.mod.HandsOver():
		return n.takeOutput(l, dst, method, l.out(), k)
	}
	return dst, n.codeErr(l, method, rc, string(buf[:min(k, uintptr(n.outCap))]))
}

// takeOutput appends a result the module handed over (a descriptor of k
// bytes at out, see docs/abi.md) to dst and gives the module its buffer
// back, also when the result is refused for its size.
func (n *nativeModule) takeOutput(l *lane, dst []byte, method string, out unsafe.Pointer, k uintptr) ([]byte, error) {
	h, ok := callpath.ReadHandedOutput(out, k)
	if !ok {
		if k != callpath.HandedOutputSize {
			return dst, n.corrupt(l, method, fmt.Sprintf("handed an output over with a %d-byte descriptor (want %d)", k, callpath.HandedOutputSize))
		}
		return dst, n.corrupt(l, method, fmt.Sprintf("handed over %d output bytes at a null address", h.Len))
	}
	defer n.mod.ReleaseOutput(&l.frame, h)
	if h.Len > uintptr(n.maxOutput) {
		return dst, fmt.Errorf("%w: %s: method %q handed over %d bytes; the limit is %d (WithMaxOutput)",
			ErrOutputTooLarge, n.file, method, h.Len, n.maxOutput)
	}
	return append(dst, h.Bytes()...), nil
}

// callV2Large retries a call whose output did not fit, once, writing
// straight into dst's grown tail.
func (n *nativeModule) callV2Large(l *lane, dst []byte, method string, id uint32, args []byte, need uintptr) ([]byte, error) {
	if need > uintptr(n.maxOutput) {
		// The host refuses here, not the module: no module error is counted.
		return dst, fmt.Errorf("memlink: %w: %s: method %q asked for %d bytes; the limit is %d (WithMaxOutput)",
			ErrOutputTooLarge, n.file, method, need, n.maxOutput)
	}
	base := len(dst)
	dst = slices.Grow(dst, int(need)+guardSize)
	tail := dst[base : base+int(need)+guardSize]
	guard := tail[need:]
	n.arm(guard)
	outLen := (*uintptr)(l.outLen)
	*outLen = 0
	rc := n.mod.CallV2(&l.frame, id, args, unsafe.Pointer(&tail[0]), need, l.outLen)
	k := *outLen
	intact := n.intact(guard)
	clear(guard) // the canary stays the module's secret, not the caller's
	if !intact {
		return dst[:base], n.corrupt(l, method, fmt.Sprintf("wrote past the %d-byte buffer it asked for", need))
	}
	if rc == abi.CodeHandedOver && n.mod.HandsOver() {
		return n.takeOutput(l, dst[:base], method, unsafe.Pointer(&tail[0]), k)
	}
	if rc == 0 {
		if k > need {
			return dst[:base], n.corrupt(l, method, fmt.Sprintf("reported %d output bytes in a %d-byte buffer", k, need))
		}
		return dst[:base+int(k)], nil
	}
	msg := ""
	if rc != abi.CodeOutputTooSmall {
		msg = string(tail[:min(k, need)])
	}
	return dst[:base], n.codeErr(l, method, rc, msg)
}

func (n *nativeModule) codeErr(l *lane, method string, rc int32, msg string) error {
	kind := errKindCode
	if rc == abi.CodePanicked {
		kind = errKindPanicked
	}
	bump(&l.c.errs[kind], l.shared, 1)
	return &CallError{Module: n.file, Method: method, Code: rc, Message: msg}
}

func (n *nativeModule) corrupt(l *lane, method, what string) error {
	n.markCorrupted(method, what)
	bump(&l.c.errs[errKindCorrupted], l.shared, 1)
	return fmt.Errorf("memlink: %w", n.corruptErr(method, what))
}
