package isolate

import (
	"sync/atomic"
	"time"
)

// Spinning bounds. A waiter polls its state word for at most its window
// before it sleeps: long enough to catch the answer of a short call (about
// a microsecond) or the next request of a busy caller without a system
// call or a wake-up, short enough that an idle slot costs nothing.
const (
	// minSpin is the smallest window the worker's adaptive spin shrinks
	// to; a caller calling again within it opens the window fully again.
	// It is long enough to cover a busy caller's gap between two calls
	// even when that caller is preempted briefly.
	minSpin = 10 * time.Microsecond
	// pollsPerCheck is how many polls pass between two clock reads (and
	// two yields to other goroutines).
	pollsPerCheck = 64
)

// osYieldEvery is how often a spinner also yields its CPU to other
// threads; see yield.
const osYieldEvery = 5 * time.Microsecond

// coYieldAfter is how long a spinner polls before it trusts that the other
// side sharing its CPU is what holds things up. The CPU the other side
// published may be stale (it moved since); yielding on the first round
// then cost a system call per round in the common case of two CPUs.
const coYieldAfter = 2 * time.Microsecond

// spinner times one spin.
type spinner struct {
	start, nextOS int64 // spinClock readings
	limit         int64
	self, peer    *atomic.Uint32 // CPU words (1 + CPU, 0 unknown) of this side and the other
	// locked: the spinning goroutine is locked to its thread (it serves a
	// module's host call inside a C callback), so it yields only the CPU
	// (see yieldLocked).
	locked bool
}

func newSpinner(d time.Duration, self, peer *atomic.Uint32) spinner {
	now := spinClock()
	return spinner{start: now, nextOS: now + int64(osYieldEvery), limit: int64(d), self: self, peer: peer}
}

// publishCPU records the CPU the caller runs on in w, when it is known, and
// returns what it recorded (0 when unknown). Spinners publish at each pause
// only, so that an answer caught in the first round of polls costs nothing.
func publishCPU(w *atomic.Uint32) uint32 {
	c, ok := currentCPU()
	if !ok {
		return 0
	}
	w.Store(c + 1)
	return c + 1
}

// pause is called between rounds of polls. It yields, and reports false
// once the spin has lasted its limit.
//
// It yields the CPU to other threads (sched_yield) every osYieldEvery, and
// at every pause after coYieldAfter while the other side last ran on this
// very CPU: then the other side is most likely waiting here for the CPU
// this spin is burning, and polling on cannot see it move. Measured with
// host and worker pinned to one CPU, waiting for the periodic yield alone
// cost about 21 µs per call (15 µs with this).
func (s *spinner) pause() bool {
	now := spinClock()
	if now-s.start >= s.limit {
		return false
	}
	os := now >= s.nextOS
	if c := publishCPU(s.self); c != 0 && s.peer.Load() == c && now-s.start >= int64(coYieldAfter) {
		os = true
	}
	if os {
		s.nextOS = now + int64(osYieldEvery)
	}
	if s.locked {
		yieldLocked(os)
	} else {
		yield(os)
	}
	return true
}

// spinWhileEqual polls w until it no longer holds old (true) or d has
// passed (false), yielding between rounds of polls so that a spinning
// goroutine never starves one with work to do. self and peer are the CPU
// words of this side and the other.
func spinWhileEqual(w *atomic.Uint32, old uint32, d time.Duration, self, peer *atomic.Uint32) bool {
	sp := newSpinner(d, self, peer)
	return spinEqual(w, old, &sp)
}

// spinWhileEqualLocked is spinWhileEqual for a goroutine locked to its
// thread, as the worker's goroutine is while it waits for the host's
// answer to a host call from inside the module's C callback.
func spinWhileEqualLocked(w *atomic.Uint32, old uint32, d time.Duration, self, peer *atomic.Uint32) bool {
	sp := newSpinner(d, self, peer)
	sp.locked = true
	return spinEqual(w, old, &sp)
}

func spinEqual(w *atomic.Uint32, old uint32, sp *spinner) bool {
	for i := 1; ; i++ {
		if w.Load() != old {
			return true
		}
		if i%pollsPerCheck == 0 && !sp.pause() {
			return false
		}
	}
}

// spinWhilePending polls a host slot's state word while it says request
// seq is posted or running (a host call already answered included). It
// returns true when the state has moved on, false after d.
func spinWhilePending(w *atomic.Uint32, seq uint32, d time.Duration, self, peer *atomic.Uint32) bool {
	req, busy, hostDone := seq<<3|stReq, seq<<3|stBusy, seq<<3|stHostDone
	sp := newSpinner(d, self, peer)
	for i := 1; ; i++ {
		if s := w.Load(); s != req && s != busy && s != hostDone {
			return true
		}
		if i%pollsPerCheck == 0 && !sp.pause() {
			return false
		}
	}
}
