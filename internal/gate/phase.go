package gate

import (
	"context"
	"time"
	"unsafe"
)

// A call holds its lane from Enter to Exit, but the resources of a version
// are not all needed for that long: the library is needed only while the
// call runs the module's code, the call buffers until the caller has
// copied its output. The functions below let the owner of a version's end
// wait for the first of these separately (see docs/design.md, "Why a
// drain has two phases"): the call path marks a call that has left the module for good,
// and the owner drains on those marks before it closes the library.

// SeqWord returns the address of lane i's sequence word, odd while a call
// holds the lane, a different odd value for every call. A trampoline
// copies it to mark which call returned (callpath.Frame.MarkReturns); the
// address stays valid as long as the gate.
func (g *Gate) SeqWord(i int) *uint64 {
	return (*uint64)(unsafe.Pointer(&g.lanes[i].seq))
}

// LaneSeq returns lane i's sequence word: odd while a call holds the lane.
func (g *Gate) LaneSeq(i int) uint64 { return g.lanes[i].seq.Load() }

// OverflowInFlight counts the calls admitted without a lane and not yet
// exited: exact once the gate is closed and a call seen here has not left
// (it may leave while the shards are read, so the count errs high, never
// low), a snapshot while it is open.
func (g *Gate) OverflowInFlight() int {
	var n int
	for i := range g.over {
		n += int(g.over[i].inFlight.Load())
	}
	return max(n, 0)
}

// drainSpin is how long DrainUntil polls without sleeping, and
// drainPollMin and drainPollMax bound how often it re-checks after that:
// nothing signals its condition. The calls it waits for are usually about
// to return, and a goroutine that sleeps on a timer while the process's Ps
// are busy (many goroutines going in and out of C) can wait milliseconds to
// run again; a reload is rare, so it keeps its P for a moment instead.
const (
	drainSpin    = 2 * time.Millisecond
	drainPollMin = 20 * time.Microsecond
	drainPollMax = time.Millisecond
)

// DrainUntil waits until no call is in flight or left reports true,
// whichever is first, or ctx ends (it then returns ctx.Err()). left is
// the caller's test that the calls still in flight no longer need what it
// is about to free; it is polled, without a pause for 2 ms, then from 20
// µs apart up to 1 ms and after every call that leaves the closed gate.
// Close the gate first.
func (g *Gate) DrainUntil(ctx context.Context, left func() bool) error {
	drained := func() bool { return g.InFlight() == 0 || left() }
	if drained() {
		return nil
	}
	for start := time.Now(); time.Since(start) < drainSpin; {
		if drained() {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	wait := drainPollMin
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-g.exited:
		case <-t.C:
			wait = min(2*wait, drainPollMax)
			t.Reset(wait)
		case <-ctx.Done():
			return ctx.Err()
		}
		if drained() {
			return nil
		}
	}
}
