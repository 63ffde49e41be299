package memlink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/memlink/memlink-go/hotreload"
)

// maxStateBytes bounds the state a module may ask to carry across a reload.
const maxStateBytes = 1 << 30

// Reload replaces the module behind h with the one ref names, without
// downtime and without changing h: after Reload returns nil, every new call
// on h runs the new version, and no caller ever sees an error caused by the
// reload itself.
//
// The new version is always loaded from a private copy of the file, so
// rebuilding a module in place and reloading it from the same path loads the
// new code (the dynamic loader would otherwise hand back the image it already
// has open). The copy is deleted when that version is closed. It is
// initialised with opts, or with the configuration h was loaded with when no
// option is given.
//
// With cfg.PreserveState false, the handle switches as soon as the new
// version is initialised; calls already running finish in the old version,
// which is shut down and closed once none of them will run its code again
// (their output is then copied to their callers while Reload returns, and
// the old version's call buffers are freed after the last one). If that
// takes longer than cfg.DrainTimeout, Reload returns an error wrapping
// ErrDrainTimeout with the new version active and the old one closed later.
//
// With cfg.PreserveState true, no update may be lost: new calls are held
// (not refused) while calls in the old version drain, its state is
// serialised with memlink_serialize_state and restored into the new version
// with memlink_deserialize_state, then the handle switches and the held
// calls run on the new version.
//
// Any failure before the switch rolls back: the old version keeps serving
// as if nothing happened, and the error says why (a *LoadError for a new
// version that fails to resolve, validate, load or initialise;
// hotreload.ErrStateUnsupported when either version lacks the state
// exports; hotreload.ErrStateTransfer when serialising or restoring fails;
// ErrDrainTimeout when a stateful drain times out).
//
// Reloads of one handle are serialised. Unload waits for a reload in
// progress to finish.
func (rt *Runtime) Reload(h Handle, ref Ref, cfg hotreload.Config, opts ...LoadOption) (hotreload.Report, error) {
	start := time.Now()
	if err := rt.reentrant(h); err != nil {
		return hotreload.Report{}, err
	}
	e := rt.lookup(h)
	if e == nil {
		return hotreload.Report{}, rt.unknown(h)
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	rep, err := rt.reload(e, ref, cfg, opts, start)
	rep.Duration = time.Since(start)
	rt.stats.reloadDur.observe(rep.Duration, true, lifecycleBucketNanos)
	if rep.Result != "" {
		e.mu.Lock()
		e.reloads[slicesIndex(rep.Result)]++
		e.mu.Unlock()
	}
	rt.logReload(e, rep, err)
	return rep, err
}

func slicesIndex(r hotreload.Result) int {
	for i, x := range reloadResults {
		if x == r {
			return i
		}
	}
	return 0
}

// ReloadFile is Reload with a path, for hotreload.Watch.
func (rt *Runtime) ReloadFile(h Handle, path string, cfg hotreload.Config) (hotreload.Report, error) {
	ref, err := ParseRef(path)
	if err != nil {
		return hotreload.Report{}, err
	}
	return rt.Reload(h, ref, cfg)
}

func (rt *Runtime) reload(e *entry, ref Ref, cfg hotreload.Config, opts []LoadOption, start time.Time) (hotreload.Report, error) {
	e.mu.Lock()
	gone := e.gone
	old := e.cur.Load()
	e.mu.Unlock()
	if gone || old == nil {
		return hotreload.Report{}, fmt.Errorf("memlink: handle %v: %w", e.h, ErrUnknownHandle)
	}
	rep := hotreload.Report{Generation: old.gen, Result: hotreload.ResultRolledBack}
	lo := loadOptions{config: e.config, isolation: old.isolation(), host: old.hostInherit(e.h)} // an isolated handle stays isolated
	for _, o := range opts {
		o(&lo)
	}
	lo.inPlace = false // a reload always loads a private copy
	rolledBack := func(err error) error {
		var le *LoadError
		if errors.As(err, &le) {
			le.nested = true // this message says memlink: already
		}
		return fmt.Errorf("memlink: reload %v (%s): rolled back, generation %d keeps serving: %w",
			e.h, e.name, old.gen, err)
	}
	if err := lo.check(); err != nil {
		return rep, rolledBack(&LoadError{Ref: ref.String(), Err: err})
	}

	next, err := rt.open(ref, lo, old.gen+1, true)
	if err != nil {
		return rep, rolledBack(err)
	}

	if cfg.PreserveState {
		return rt.swapStateful(e, old, next, cfg, rep, rolledBack, start)
	}

	// Stateless: switch first, drain after.
	e.mu.Lock()
	e.live = append(e.live, next)
	e.cur.Store(next)
	old.gate.Close()
	e.signal()
	e.mu.Unlock()
	rep.Generation, rep.Drained, rep.Result = next.gen, old.gate.InFlight(), hotreload.ResultOK
	rep.Switch = time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout())
	defer cancel()
	if err := e.retire(ctx, old, false); err != nil {
		if errors.Is(err, ErrDrainTimeout) {
			rep.Result = hotreload.ResultDrainTimeout
			return rep, fmt.Errorf("memlink: reload %v (%s): generation %d is active; %w", e.h, e.name, next.gen, err)
		}
		// The old version was shut down but complained; the reload itself
		// succeeded.
		return rep, nil
	}
	return rep, nil
}

// swapStateful holds new calls, drains the old version, carries its state
// into next and switches, or rolls back on any failure.
func (rt *Runtime) swapStateful(e *entry, old, next *instance, cfg hotreload.Config, rep hotreload.Report,
	rolledBack func(error) error, start time.Time) (hotreload.Report, error) {
	discard := func() {
		_ = next.discard() // the reason for the rollback is the error to report
	}
	if !old.mod.hasState() || !next.mod.hasState() {
		discard()
		which := old.file()
		if old.mod.hasState() {
			which = next.file()
		}
		return rep, rolledBack(fmt.Errorf("%w: %s", hotreload.ErrStateUnsupported, which))
	}
	// Hold: callers that find the old gate closed wait in await until the
	// handle switches or the gate reopens.
	e.mu.Lock()
	old.gate.Close()
	e.mu.Unlock()
	reopen := func() {
		e.mu.Lock()
		old.gate.Open()
		e.signal()
		e.mu.Unlock()
	}
	rep.Drained = old.gate.InFlight()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout())
	defer cancel()
	if err := old.gate.Drain(ctx); err != nil {
		reopen()
		discard()
		rep.Result = hotreload.ResultDrainTimeout
		return rep, rolledBack(fmt.Errorf("%d call(s) still running after %v: %w", old.gate.InFlight(), cfg.Timeout(), ErrDrainTimeout))
	}
	state, err := old.mod.saveState() // in process or across the process boundary (isolation.go)
	if err == nil {
		err = next.mod.restoreState(state)
	}
	if err != nil {
		reopen()
		discard()
		return rep, rolledBack(err)
	}
	e.mu.Lock()
	e.live = append(e.live, next)
	e.cur.Store(next)
	e.signal()
	e.mu.Unlock()
	// The reload has succeeded; a failing memlink_shutdown of the old
	// version cannot undo it. The reload lock keeps Unload away, so the
	// drained old version is this reload's to end.
	if old.claim() {
		_ = old.stop()
		_ = e.finish(old)
	}
	rep.Generation, rep.StateBytes, rep.Result = next.gen, len(state), hotreload.ResultOK
	rep.Switch = time.Since(start)
	return rep, nil
}
