package memlink

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/memlink/memlink-go/internal/gate"
)

// instance is one loaded version of a module. A handle points to one
// instance at a time; hot reload swaps it.
//
// The module itself runs in one of two ways, each a type of its own with
// its whole behaviour in one file: in this process (nativeModule,
// native.go) or in a worker process (isolatedModule, isolation.go).
// Exactly one of native and iso is set. The call path tests native, a
// concrete pointer, so an in-process call costs no interface dispatch; the
// rare operations go through mod.
//
// An instance ends once, by one owner (see lifecycle).
type instance struct {
	native *nativeModule   // set when the module runs in this process
	iso    *isolatedModule // set when it runs in a worker process
	mod    module          // native or iso, for the operations below the call path
	host   *hostBinding    // set when the module bound the host table (hostcall.go)

	gate    *gate.Gate
	gen     uint64
	path    string       // file opened
	origin  string       // file the private copy was made from ("" when not a copy)
	private *privateFile // the private copy, removed when the instance ends

	binding *hostBinding // host, or the same unbound: grants and counters for reloads, worker events (hostcall.go)

	life lifecycle
}

// module is what an instance needs from its module beyond the call path.
// Every method but abandon is called by the instance's single owner of
// its end, after the gate has drained, or before the instance serves.
type module interface {
	// base returns what both kinds of module keep.
	base() *moduleBase
	// left reports whether every call in flight has made its last call
	// into the module's code (the first phase of a drain); it may always
	// report false, and then the drain waits for the calls to leave the
	// gate. The gate must be closed.
	left() bool
	// shutdown runs memlink_shutdown and frees the module's resources but
	// those calls that have left the module may still use.
	shutdown() error
	// freeBuffers frees the rest, once no call is in flight.
	freeBuffers() error
	hasState() bool
	saveState() ([]byte, error)
	restoreState(state []byte) error
	// arenaBytes reports the off-heap bytes the call buffers take.
	arenaBytes() int
	// addTotals adds the module's own counters (lanes, restarts) to t.
	addTotals(t *totals)
	// abandon stops calls that did not drain in time, where that is
	// possible (it kills an isolated module's worker); it may run at any
	// time before shutdown.
	abandon()
}

// moduleBase is what both kinds of module keep.
type moduleBase struct {
	file        string // base name of the user's file, for messages
	outCap      int
	maxOutput   int
	sampleEvery uint32
	corrupted   atomic.Bool
	shared      counters      // calls without a lane of their own; quarantined calls
	logger      *slog.Logger  // WithLogger's, nil for slog.Default (hostlog.go)
	handle      atomic.Uint64 // for log records: see identify
	gen         uint64
}

func newModuleBase(o *options, name string) moduleBase {
	return moduleBase{file: filepath.Base(name), outCap: o.outputCap, maxOutput: o.maxOutput, sampleEvery: o.sampleEvery, logger: o.host.logger}
}

func (b *moduleBase) base() *moduleBase { return b }

func (b *moduleBase) corruptErr(method, what string) error {
	return fmt.Errorf("%w: %s: method %q: %s; reload or unload the module", ErrModuleCorrupted, b.file, method, what)
}

// quarantined counts and returns the error of a call on a corrupted module.
func (b *moduleBase) quarantined(method string) error {
	b.shared.errs[errKindCorrupted].Add(1)
	return fmt.Errorf("memlink: %w: %s: method %q: an earlier call corrupted the module; reload or unload it", ErrModuleCorrupted, b.file, method)
}

func newInstance(gate *gate.Gate, path string, gen uint64, m module) *instance {
	in := &instance{path: path, gen: gen, gate: gate, mod: m}
	switch m := m.(type) {
	case *nativeModule:
		in.native = m
		m.gate = gate
	case *isolatedModule:
		in.iso = m
	}
	in.life.ended = make(chan struct{})
	return in
}

// file is the base name of the user's file, for messages.
func (in *instance) file() string { return in.mod.base().file }

// source is the file the instance was loaded from: the original of a
// private copy.
func (in *instance) source() string {
	if in.origin != "" {
		return in.origin
	}
	return in.path
}

// totals sums the instance's counters. Calls are counted by the gate.
func (in *instance) totals() totals {
	t := totals{calls: in.gate.Calls()}
	in.mod.base().shared.addTo(&t)
	in.mod.addTotals(&t)
	return t
}

// isolation returns the isolation the instance was loaded with, or nil.
func (in *instance) isolation() *Isolation {
	if in.iso == nil {
		return nil
	}
	iso := in.iso.cfg
	return &iso
}

// lifeState is where an instance is in its life. It only moves forward.
type lifeState int32

const (
	// lifeServing: the instance may admit calls (its gate may also be
	// held closed for a while by a stateful reload). Nobody owns its end.
	lifeServing lifeState = iota
	// lifeDraining: one party has claimed the end; the gate is closed and
	// the owner waits until no call in flight will run module code again
	// (module.left, or the gate empty).
	lifeDraining
	// lifeShuttingDown: the owner runs memlink_shutdown and closes the
	// library, and removes the private copy.
	lifeShuttingDown
	// lifeReleasing: the module is gone; calls may still be copying their
	// output out of the call buffers. The owner waits for the gate to empty
	// (in the background when a reload has returned already), then frees
	// the buffers and retires the host binding.
	lifeReleasing
	// lifeEnded: nothing of the instance is left but its counters.
	lifeEnded
)

// lifecycle is an instance's state, changed only under mu, and a channel
// closed when it reaches lifeEnded. Whoever moves it from lifeServing to
// lifeDraining (claim) owns the end: only that party shuts the instance
// down and releases it (itself, or a goroutine it hands the rest to), so
// Unload, Close, a reload's retire and a rollback can never both end one
// instance; the others wait for ended.
type lifecycle struct {
	mu    sync.Mutex
	state lifeState
	ended chan struct{}
}

// claim makes the caller the owner of the instance's end, or returns
// false when someone else already is.
func (in *instance) claim() bool {
	in.life.mu.Lock()
	defer in.life.mu.Unlock()
	if in.life.state != lifeServing {
		return false
	}
	in.life.state = lifeDraining
	return true
}

// abandon stops the calls of an instance that did not drain in time,
// where that is possible (an isolated module's worker is killed, failing
// them). Anyone may call it; it does nothing once the shutdown has begun.
func (in *instance) abandon() {
	in.life.mu.Lock()
	defer in.life.mu.Unlock()
	if in.life.state <= lifeDraining {
		in.mod.abandon()
	}
}

// advance moves the instance from state from to the next one. Only the
// owner calls it, once per step.
func (in *instance) advance(from lifeState) {
	in.life.mu.Lock()
	defer in.life.mu.Unlock()
	if in.life.state != from {
		panic(fmt.Sprintf("memlink: instance in state %d, want %d", in.life.state, from))
	}
	in.life.state = from + 1
	if in.life.state == lifeEnded {
		close(in.life.ended)
	}
}

// stop shuts the claimed instance down once no call in flight will run
// module code again: memlink_shutdown, the library closed, the private
// copy removed. Only the owner calls it, once.
func (in *instance) stop() error {
	in.advance(lifeDraining)
	err := in.mod.shutdown()
	if in.private != nil {
		err = errors.Join(err, in.private.remove())
	}
	in.advance(lifeShuttingDown)
	return err
}

// release ends the stopped instance once its gate is empty: the call
// buffers are freed and the host binding retired (memlink_shutdown has
// returned and no call holds a host record: the table goes stale). Only
// the owner calls it, once.
func (in *instance) release() error {
	err := in.mod.freeBuffers()
	in.host.retire()
	in.advance(lifeReleasing)
	return err
}

// discard ends an instance that never served (a load the runtime refused,
// a reload rolled back): it is its own owner.
func (in *instance) discard() error {
	in.gate.Close()
	if !in.claim() {
		return nil
	}
	return errors.Join(in.stop(), in.release())
}

// samplePhase is where a new lane's (or an isolated module's) sampling
// counter starts: a random point of the sampling interval. Calls spread
// over many lanes then give calls/interval samples on average whatever
// the spread; counters that all started at zero gave none until some lane
// had made a whole interval of calls (3,000 calls over 64 lanes: 0).
func (b *moduleBase) samplePhase() uint32 {
	if b.sampleEvery <= 1 {
		return 0
	}
	return rand.Uint32N(b.sampleEvery)
}
