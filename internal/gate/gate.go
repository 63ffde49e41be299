package gate

import (
	"context"
	"sync/atomic"
	"time"
	"unsafe"
)

// Overflow is the lane [Gate.Enter] returns when every lane is taken. The
// call is still admitted and counted; it just has no lane of its own.
const Overflow = -1

// overflowShards is how many counter pairs calls without a lane spread
// over, so that such calls on different CPUs rarely write the same line.
const overflowShards = 8

// laneBytes spaces lanes two cache lines apart, so that neither false
// sharing nor the adjacent-line prefetcher couples two callers.
const laneBytes = 128

// lane is one slot for a call in flight. seq counts half-steps: Enter
// makes it odd (busy), Exit makes it even again, so seq/2 is the number of
// calls the lane has completed and seq&1 whether one is running. Counting
// calls this way costs nothing beyond the two atomic operations a gate
// needs anyway.
type lane struct {
	seq atomic.Uint64
	_   [laneBytes - 8]byte
}

const (
	gateOpen int32 = iota
	gateClosed
)

// Gate admits calls into one version of a module and counts the calls in
// flight, so that the version can be drained before it is shut down.
//
// A Gate has a fixed number of lanes. A call owns one lane from Enter to
// Exit, which gives the caller a private index (for buffers and counters)
// and spreads the in-flight count over many cache lines instead of one
// contended counter. When every lane is taken the call is admitted on a
// overflow counter (sharded, so that it does not become the one contended
// line the lanes exist to avoid: with more goroutines than lanes, callers
// descheduled while holding a lane push others onto it all the time).
//
// Close and Enter form a Dekker pair on sequentially consistent atomics:
// Enter takes a lane and then reads the gate's state, Close writes the state
// and [Gate.Drain] then reads the lanes, so a call is either refused or seen
// by Drain; it can never run unseen after Drain returns. Exit frees its
// lane with a release store, which is enough for Drain to see the lane free
// only after the call's work is done; a wake-up it might miss is caught by
// Drain's periodic re-check.
type Gate struct {
	// Read by every call, written only by Close and Open: kept apart from
	// the counters below, which calls write.
	lanes  []lane
	mask   uint32
	state  atomic.Int32
	exited chan struct{} // wakes Drain when a call leaves a closed gate
	_      [laneBytes]byte
	over   [overflowShards]overflowShard
}

// overflowShard counts calls without a lane. A call may leave on another
// shard than it entered on (its stack can move), so only the sums over all
// shards mean anything: in flight may be negative on one shard.
type overflowShard struct {
	inFlight atomic.Int64
	done     atomic.Uint64
	_        [laneBytes - 16]byte
}

// NewGate returns an open gate with at least n lanes (rounded up to a power
// of two, at least 1).
func NewGate(n int) *Gate {
	size := 1
	for size < n {
		size <<= 1
	}
	return &Gate{lanes: make([]lane, size), mask: uint32(size - 1), exited: make(chan struct{}, 1)}
}

// Lanes returns the number of lanes, so callers can size per-lane state.
func (g *Gate) Lanes() int { return len(g.lanes) }

// Enter admits a call. It returns the lane the call owns until Exit, or
// [Overflow] when every lane is busy, and ok == false when the gate is
// closed, in which case the call was not admitted and Exit must not be
// called.
//
// It tries the hinted lane first (TryEnter), then the other lanes and the
// overflow counters (enterSlow). Either way the call takes its lane before
// it reads the state (the Dekker pair).
func (g *Gate) Enter() (laneIndex int, ok bool) {
	start := Hint() & g.mask
	if laneIndex, ok = g.TryEnter(start); ok {
		return laneIndex, true
	}
	return g.enterSlow(start)
}

// TryEnter is the common case of Enter on its own, for the hot path: it
// admits the call on lane hint (masked to the gate's lanes; pass [Hint]())
// when that lane is free and the gate open, and otherwise admits nothing
// and returns ok == false, leaving the caller to use Enter, which also
// tries the other lanes and tells a closed gate from a busy lane. The lane
// it returns is the call's own (never [Overflow]), so the call leaves with
// [Gate.Leave]. It makes no call and is small enough to be inlined, which
// Enter with its fallback is not; taking the hint as an argument is what
// keeps it within the inliner's budget.
func (g *Gate) TryEnter(hint uint32) (laneIndex int, ok bool) {
	l := g.lane(uintptr(hint))
	if v := l.seq.Load(); v&1 == 0 && l.seq.CompareAndSwap(v, v+1) {
		if g.state.Load() == gateOpen {
			return int(hint & g.mask), true
		}
		// Refused: give the lane back without counting a call.
		l.seq.Store(v)
	}
	return 0, false
}

// lane returns lane i&g.mask without a bounds check: NewGate makes
// len(g.lanes) == g.mask+1 and neither changes, so the masked index is
// always in range.
func (g *Gate) lane(i uintptr) *lane {
	return (*lane)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(g.lanes)), (i&uintptr(g.mask))*unsafe.Sizeof(lane{})))
}

// enterSlow is Enter when the hinted lane is busy: the other lanes in
// turn, then an overflow shard.
//
//go:noinline
func (g *Gate) enterSlow(start uint32) (laneIndex int, ok bool) {
	laneIndex = Overflow
	var seq uint64
	for i := uint32(1); i <= g.mask; i++ {
		j := (start + i) & g.mask
		l := &g.lanes[j]
		if v := l.seq.Load(); v&1 == 0 && l.seq.CompareAndSwap(v, v+1) {
			laneIndex, seq = int(j), v
			break
		}
	}
	if laneIndex == Overflow {
		g.over[start%overflowShards].inFlight.Add(1)
	}
	if g.state.Load() != gateOpen {
		// Refused: give the lane back without counting a call.
		if laneIndex == Overflow {
			g.over[start%overflowShards].inFlight.Add(-1)
		} else {
			g.lanes[laneIndex].seq.Store(seq)
		}
		return 0, false
	}
	return laneIndex, true
}

// Exit ends a call admitted by Enter on the lane Enter returned.
func (g *Gate) Exit(laneIndex int) {
	if laneIndex != Overflow {
		if g.Leave(laneIndex) {
			g.wake()
		}
		return
	}
	g.exitOverflow()
	if g.state.Load() != gateOpen {
		g.wake()
	}
}

// Leave is Exit's common case, for the hot path: it ends a call that holds
// a lane of its own (laneIndex != [Overflow], as every lane TryEnter
// returns) and reports whether the gate is closed, in which case the caller
// must call [Gate.Wake] so that a Drain waiting for the call notices at
// once. The wake-up is the caller's so that Leave makes no call and can be
// inlined.
//
// The lane is freed with a release store: the call's work is visible before
// the lane reads as free. The store and the state check that follows may
// be reordered (store to load), so a Drain that closed the gate meanwhile
// can miss this wake-up; its periodic re-check catches it.
func (g *Gate) Leave(laneIndex int) (closed bool) {
	l := g.lane(uintptr(laneIndex))
	releaseLane(&l.seq, l.seq.Load()+1) // only the lane's owner writes it
	return g.state.Load() != gateOpen
}

// Wake tells a Drain of the closed gate that a call has left: Exit does it
// itself, a caller of Leave when Leave reports the gate closed.
func (g *Gate) Wake() { g.wake() }

//go:noinline
func (g *Gate) exitOverflow() {
	sh := &g.over[Hint()%overflowShards]
	sh.done.Add(1)
	sh.inFlight.Add(-1)
}

// wake tells Drain that a call left the closed gate.
//
//go:noinline
func (g *Gate) wake() {
	select {
	case g.exited <- struct{}{}:
	default:
	}
}

// Hint picks the lane a call tries first. It hashes the address of a
// local variable: goroutines run on different stacks, so concurrent callers
// mostly start on different lanes, while one goroutine keeps coming back
// to the same lane (warm in its cache, and the only buffer it touches). A
// stack that moves just changes the hint. It costs a multiply, where a
// random number would cost a few nanoseconds.
func Hint() uint32 {
	var probe byte
	p := uint64(uintptr(unsafe.Pointer(&probe)))
	return uint32((p >> 10) * 0x9e3779b97f4a7c15 >> 40)
}

// Close stops admitting calls. Calls already admitted go on. Close is
// idempotent.
func (g *Gate) Close() { g.state.Store(gateClosed) }

// Open admits calls again after Close (a reload that rolls back reopens the
// old version's gate).
func (g *Gate) Open() { g.state.Store(gateOpen) }

// Closed reports whether the gate refuses new calls.
func (g *Gate) Closed() bool { return g.state.Load() != gateOpen }

// InFlight counts the calls admitted and not yet exited: exactly enough
// for Drain once the gate is closed, a snapshot that may be off by the
// calls entering and leaving meanwhile while it is open. It reads every
// lane, so it is meant for draining and statistics, not for the call path.
func (g *Gate) InFlight() int {
	var n int
	for i := range g.over {
		n += int(g.over[i].inFlight.Load())
	}
	for i := range g.lanes {
		n += int(g.lanes[i].seq.Load() & 1)
	}
	// While the gate is open, a call can enter on a shard already read and
	// leave on one not read yet, so the sum can dip below the calls
	// running, even below zero. Once the gate is closed every admitted
	// call's entry is visible to the reads, so Drain never undercounts.
	return max(n, 0)
}

// Calls counts the calls that have entered and exited the gate. Refused
// calls are not counted.
func (g *Gate) Calls() uint64 {
	var n uint64
	for i := range g.over {
		n += g.over[i].done.Load()
	}
	for i := range g.lanes {
		n += g.lanes[i].seq.Load() >> 1
	}
	return n
}

// Drain waits until no call is in flight or ctx ends, whichever is first,
// and returns ctx.Err() in the second case. Call Close first, or new calls
// may keep the gate busy. Drain with nothing in flight returns at once.
func (g *Gate) Drain(ctx context.Context) error {
	// A call leaving a closed gate signals exited; the ticker is only a
	// safety net for a gate that was closed after that call's Exit ran its
	// state check.
	var tick *time.Ticker
	for {
		if g.InFlight() == 0 {
			if tick != nil {
				tick.Stop()
			}
			return nil
		}
		if tick == nil {
			tick = time.NewTicker(time.Millisecond)
		}
		select {
		case <-g.exited:
		case <-tick.C:
		case <-ctx.Done():
			tick.Stop()
			return ctx.Err()
		}
	}
}
