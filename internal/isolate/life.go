package isolate

import "sync/atomic"

// phase is a step in a worker's life. It only moves forward.
type phase uint8

const (
	// phaseStarting: the process runs; only its load request is admitted.
	phaseStarting phase = iota
	// phaseReady: the module is loaded and calls are admitted.
	phaseReady
	// phaseDying: no new request is admitted. The host killed the
	// worker, asked it to exit, or saw it end and is recording how.
	phaseDying
	// phaseDead: the worker is reaped, its exit is final and the client
	// has counted it (restart reason, back-off, the loss RestartNever
	// keeps reporting).
	phaseDead
)

// lifeState is one snapshot of a worker's lifecycle. A snapshot is never
// modified once published: every change publishes a new one with a
// compare-and-swap, so no reader sees half of a change (a reason without
// its detail, a death without its exit).
type lifeState struct {
	phase phase
	// planned: the host stops the worker on purpose (Shutdown, Kill, a
	// failed load), so that its end is not a loss.
	planned bool
	// killed: the host sent SIGKILL for why, with detail; the first kill
	// wins.
	killed bool
	why    Reason
	detail string
	// sealed: the reaper has seen the process end and decided its exit
	// from this snapshot; later kills change nothing.
	sealed bool
	// exit is how the worker ended, valid in phaseDead.
	exit Exit
}

// life is a worker's lifecycle: one atomically replaced snapshot, and a
// channel closed once the snapshot reaches phaseDead.
//
// The order of a worker's end, which the reaper alone carries out:
//  1. seal: the state moves to phaseDying (if a kill has not already put
//     it there) and is sealed; the exit is decided from that snapshot.
//  2. The client records the end: the restart counter of its reason, the
//     back-off, and the loss a client without restarts reports.
//  3. The state moves to phaseDead, carrying the exit.
//  4. The requests still in the slots are dropped, which wakes their
//     callers, and deadCh is closed.
//
// So anyone who sees phaseDead, or is woken by a dropped request or by
// deadCh, finds the end already counted: a caller that gets a crash
// error and reads the restart counters next sees this crash, and a
// client that must not restart finds the loss it must report.
type life struct {
	p      atomic.Pointer[lifeState]
	deadCh chan struct{}
}

// init sets up l for a worker that has just been started.
func (l *life) init() {
	l.deadCh = make(chan struct{})
	l.p.Store(&lifeState{})
}

func (l *life) load() *lifeState { return l.p.Load() }

// update publishes f's change to the current state, retrying when another
// change came first. f reports false to change nothing. update returns
// the state f was given last and whether f's change was published.
func (l *life) update(f func(s *lifeState) bool) (old lifeState, changed bool) {
	for {
		cur := l.p.Load()
		next := *cur
		if !f(&next) {
			return *cur, false
		}
		if l.p.CompareAndSwap(cur, &next) {
			return *cur, true
		}
	}
}

// admits reports whether the worker takes new calls.
func (s *lifeState) admits() bool { return s.phase < phaseDying }

// stopping reports a planned stop in progress, which still admits its own
// request (opShutdown): dying, not killed, not ended.
func (s *lifeState) stopping() bool {
	return s.phase == phaseDying && s.planned && !s.killed && !s.sealed
}

// ready moves a loaded worker from phaseStarting to phaseReady.
func (l *life) ready() {
	l.update(func(s *lifeState) bool {
		if s.phase != phaseStarting {
			return false
		}
		s.phase = phaseReady
		return true
	})
}

// orderKill records a kill for r with detail unless one is recorded or the
// worker's end is sealed, and reports whether the caller must now send the
// signal. A worker the host was stopping anyway ends with reasonShutdown.
func (l *life) orderKill(r Reason, detail string) bool {
	_, changed := l.update(func(s *lifeState) bool {
		if s.killed || s.sealed {
			return false
		}
		if r == reasonShutdown {
			s.planned = true
		}
		if s.planned {
			r = reasonShutdown
		}
		s.phase = max(s.phase, phaseDying)
		s.killed, s.why, s.detail = true, r, detail
		return true
	})
	return changed
}

// planStop moves a live worker to phaseDying as a planned stop and reports
// whether it did; false means the worker was already dying or dead.
func (l *life) planStop() bool {
	_, changed := l.update(func(s *lifeState) bool {
		if !s.admits() {
			return false
		}
		s.phase, s.planned = phaseDying, true
		return true
	})
	return changed
}

// seal freezes the state the reaper decides the exit from.
func (l *life) seal() lifeState {
	old, _ := l.update(func(s *lifeState) bool {
		s.phase = max(s.phase, phaseDying)
		s.sealed = true
		return true
	})
	old.phase = max(old.phase, phaseDying)
	old.sealed = true
	return old
}

// bury publishes the exit (phaseDead). The reaper closes deadCh after it
// has dropped the requests left in the slots.
func (l *life) bury(ex Exit) {
	l.update(func(s *lifeState) bool {
		s.phase, s.exit = phaseDead, ex
		return true
	})
}

// waitExit waits for the worker to be dead and returns how it ended.
func (l *life) waitExit() *Exit {
	<-l.deadCh
	ex := l.p.Load().exit
	return &ex
}
