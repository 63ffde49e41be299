package memlink

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/isolate"
)

// init turns this process into an isolation worker when the runtime of a
// host started it as one (see WithIsolation): it serves the host's module
// and exits, and the program's main never runs. Packages initialised
// before this one have run their init functions by then, in the worker as
// in the host.
func init() {
	if isolate.IsWorker() {
		isolate.ServeWorker()
	}
}

// RestartPolicy says what happens to an isolated module whose worker
// process is lost.
type RestartPolicy int

const (
	// RestartOnCrash starts a new worker (running memlink_init again with
	// the same configuration) for the next call after a worker is lost.
	// Restarts in a row back off, from immediately to 10ms and doubling up
	// to 5s; the back-off resets once a worker has lived a second or
	// answered 100 calls. A call waits for the restart, back-off included,
	// within its context. It is the zero value.
	RestartOnCrash RestartPolicy = iota
	// RestartNever leaves the handle without a worker after the first
	// loss: every later call fails with ErrModuleCrashed (naming the
	// original cause) until the handle is reloaded or unloaded.
	RestartNever
)

// Isolation configures a module loaded out of process; see WithIsolation.
// The zero value isolates with no call timeout, no memory limit and
// restarts on. A negative duration or limit, or Slots out of range, makes
// Load fail with ErrInvalidOption.
type Isolation struct {
	// CallTimeout, when positive, bounds how long one call may run: a
	// call running longer kills the worker and fails with ErrCallTimeout.
	// It also bounds state transfers, and memlink_init unless InitTimeout
	// is set. memlink_shutdown is bounded by the drain timeout
	// (WithDrainTimeout).
	CallTimeout time.Duration
	// InitTimeout, when positive, bounds memlink_init in each new worker
	// (at Load, Reload and every restart), counted from when the worker
	// begins it; the worker process gets 10s on top to start. An init
	// running longer kills the worker: Load and Reload fail with
	// ErrCallTimeout, a call waiting for a restart with ErrModuleCrashed
	// saying so. Zero means CallTimeout; negative means no bound.
	InitTimeout time.Duration
	// MemoryLimit, when positive, bounds the memory the module may take
	// in its worker, in bytes (Linux and Windows; ignored elsewhere): the address
	// space it adds, shared mappings included (RLIMIT_AS), and its
	// private writable memory (RLIMIT_DATA), each set before the module
	// is loaded to what the worker itself holds plus MemoryLimit plus an
	// allowance of four thread stacks, so a module reaches at least
	// MemoryLimit and at most that allowance more (docs/security.md says
	// what is bounded). On Windows the worker's Job Object bounds the
	// memory it commits to what it had committed before the module loaded
	// plus MemoryLimit plus about 4 MiB (JOB_OBJECT_LIMIT_PROCESS_MEMORY).
	// Allocations beyond it fail, which usually ends
	// the worker; such an end is reported with reason "memory".
	MemoryLimit int64
	// Restart says what follows the loss of a worker. Default
	// RestartOnCrash.
	Restart RestartPolicy
	// Slots is how many calls can run in the worker at once (each is a
	// thread there); further callers wait for a free slot. 0 to 256;
	// default (0) 8.
	Slots int
	// Output says where the worker's stdout and stderr go. Default
	// OutputLog: each line is a record of the runtime's logger.
	Output OutputMode
	// Sandbox, when set, confines the module in its worker to what it
	// grants (Linux); see Sandbox. Nil leaves the worker with all of
	// this process's rights.
	Sandbox *Sandbox
}

// maxSlots bounds Isolation.Slots.
const maxSlots = 256

// WithIsolation loads the module into a worker process of its own instead
// of into this one. Calls, Unload, Reload (keeping the handle, carrying
// state across the process boundary), Usage and Stats work as for a module
// loaded in process, and so do the errors a module returns. What changes:
//
//   - A crash in the module (a segmentation fault, abort(), exit(), a
//     fatal signal) fails the calls running in the worker with a
//     *CrashError matching ErrModuleCrashed, and the host goes on. Calls
//     the worker had not begun are run again on the next worker.
//   - A call running longer than CallTimeout, or past its context's end
//     (CallContext), kills the worker; the call fails with ErrCallTimeout
//     or the context's error, the worker's other calls with
//     ErrModuleCrashed ("killed after timeout").
//   - A call costs a few microseconds instead of tens of nanoseconds: its
//     arguments and output are copied through memory shared with the
//     worker, and the two processes signal each other. Arguments or
//     outputs larger than 64 KiB travel in 64 KiB chunks.
//
// The worker is this program itself, started again from its own
// executable with a marker in its environment, which package memlink's
// init function recognises: it serves the module and exits before main
// runs. A program needs to do nothing for this, test binaries included;
// but init functions of packages initialised before memlink run in every
// worker too, and must not have side effects that a second copy of the
// program would disturb. Each worker is a process with its own resident
// memory (docs/design.md gives a figure).
//
// Isolation is supported on Linux, on Windows (events instead of futexes,
// a Job Object per worker for the processes the module starts and for
// MemoryLimit, crashes named by their exception: EXCEPTION_ACCESS_VIOLATION
// with its code 0xC0000005) and, using pipes instead of futexes and without
// MemoryLimit, on macOS and the BSDs. Elsewhere Load fails with an error
// matching errors.ErrUnsupported.
func WithIsolation(iso Isolation) LoadOption {
	iso.Sandbox = iso.Sandbox.clone()
	return func(o *loadOptions) { o.isolation = &iso }
}

// WorkerRestartReasons lists the reasons ModuleStats.WorkerRestarts
// counts, in a fixed order: "crash" (the worker died on its own: a signal
// or an exit nobody asked for), "memory" (it died after its peak resident
// memory reached three quarters of MemoryLimit), "timeout" (the host killed
// it because a call ran past CallTimeout or its context's deadline) and
// "canceled" (the host killed it because a running call's context was
// cancelled).
func WorkerRestartReasons() []string { return isolate.Reasons() }

// isolatedModule is a module loaded into a worker process of its own
// (WithIsolation). This file is its whole behaviour.
type isolatedModule struct {
	moduleBase
	c     *isolate.Client
	cfg   Isolation
	drain time.Duration // bound on memlink_shutdown and the worker's exit
	tick  atomic.Uint32 // calls since the last latency sample
}

// openIsolated starts a worker for the module at path and loads it there.
// The caller has checked the file exactly as for a load in process, so
// errors read the same; the host never opens it. name is the file errors
// speak of (the original of a private copy). A private copy held in a
// memfd is handed to the worker as an inherited descriptor (the path the
// host opens it by, /proc/self/fd/N, means nothing in another process), so
// the worker runs the very bytes the host validated and hashed.
func openIsolated(o *options, path, name string, config []byte, iso Isolation, copied *privateFile, lanes int, hb *hostBinding) (*isolatedModule, error) {
	cfg := isolate.Config{
		Path:        path,
		Name:        filepath.Base(name),
		Init:        config,
		Slots:       iso.Slots,
		OutputCap:   o.outputCap,
		MaxOutput:   o.maxOutput,
		MemoryLimit: iso.MemoryLimit,
		CallTimeout: iso.CallTimeout,
		InitTimeout: iso.InitTimeout,
		Restart:     iso.Restart == RestartOnCrash,
	}
	if copied != nil && copied.memfd != nil {
		cfg.File = copied.memfd.File()
	}
	hb.isolate(&cfg, iso.Output, lanes)
	if iso.Sandbox != nil {
		pl, err := iso.Sandbox.plan()
		if err != nil {
			return nil, err
		}
		cfg.Sandbox = pl
	}
	c, err := isolate.Start(cfg)
	if err != nil {
		return nil, isolatedLoadErr(path, name, err)
	}
	hb.isolated(c)
	m := &isolatedModule{moduleBase: newModuleBase(o, name), c: c, cfg: iso, drain: o.drainTimeout}
	m.tick.Store(m.samplePhase())
	return m, nil
}

// remoteError carries the text of an error made in the worker and the
// sentinel it matched there.
type remoteError struct {
	msg string
	is  error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.is }

// isolatedLoadErr turns a worker's load failure into the error a load in
// process would have given. The worker's messages name the file as it
// opened it (path, or the descriptor of a private copy); they are made to
// name the file the user knows.
func isolatedLoadErr(path, name string, err error) error {
	var lf *isolate.LoadFailure
	if !errors.As(err, &lf) {
		return err
	}
	msg := strings.ReplaceAll(lf.Msg, path, name)
	switch lf.Class {
	case isolate.LoadInvalid:
		return &remoteError{msg: msg, is: ErrInvalidModule}
	case isolate.LoadSymbol:
		return &remoteError{msg: msg, is: ErrMissingSymbol}
	case isolate.LoadVersion:
		return &remoteError{msg: msg, is: ErrABIVersion}
	case isolate.LoadInit:
		return fmt.Errorf("%w: %s returned %d (%s)", ErrInitFailed, name, lf.Code, abi.CodeText(lf.Code))
	case isolate.LoadTimeout:
		var f *isolate.Failure
		if errors.As(lf.Err, &f) {
			return fmt.Errorf("%w: %s: %s ran longer than %v; its worker was killed", ErrCallTimeout, name, f.Op, f.Limit)
		}
	}
	if lf.Exit != nil {
		return crashError(filepath.Base(name), "", lf.Exit, "while loading the module")
	}
	return fmt.Errorf("isolation worker: %w", lf.Err)
}

func crashError(file, method string, ex *isolate.Exit, detail string) *CrashError {
	e := &CrashError{Module: file, Method: method, Reason: ex.Reason.String(), Signal: ex.Signal, ExitCode: ex.Status, Pid: ex.Pid, Detail: ex.Detail}
	if detail != "" {
		if e.Detail != "" {
			e.Detail += "; "
		}
		e.Detail += detail
	}
	return e
}

// call is the call path of an isolated module.
func (m *isolatedModule) call(ctx context.Context, dst []byte, method string, args []byte) ([]byte, error) {
	if m.corrupted.Load() {
		return dst, m.quarantined(method)
	}
	var start time.Time
	sample := m.sampleEvery != 0 && m.tick.Add(1)%m.sampleEvery == 0
	if sample {
		start = time.Now()
	}
	out, res, err := m.c.Call(ctx, dst, abi.MethodID(method), args)
	if sample {
		m.shared.observe(time.Since(start), true, callBucketNanos)
	}
	if err != nil {
		return dst, fmt.Errorf("memlink: %w", m.isolatedErr(method, err))
	}
	switch res.Kind {
	case isolate.ResultOK:
		return out, nil
	case isolate.ResultCode:
		kind := errKindCode
		if res.Code == abi.CodePanicked {
			kind = errKindPanicked
		}
		m.shared.errs[kind].Add(1)
		return dst, &CallError{Module: m.file, Method: method, Code: res.Code, Message: res.Message}
	case isolate.ResultOverrun:
		return dst, m.callCorrupt(method, fmt.Sprintf("wrote past its %d-byte output buffer", res.Cap))
	case isolate.ResultLiar:
		return dst, m.callCorrupt(method, fmt.Sprintf("reported %d output bytes in a %d-byte buffer", res.N, res.Cap))
	}
	return dst, fmt.Errorf("memlink: %w: %s: method %q asked for %d bytes; the limit is %d (WithMaxOutput)",
		ErrOutputTooLarge, m.file, method, res.N, res.Cap)
}

func (m *isolatedModule) corrupt(method, what string) error {
	m.markCorrupted(method, what)
	m.shared.errs[errKindCorrupted].Add(1)
	return m.corruptErr(method, what)
}

// callCorrupt is corrupt for the call path, whose error is the outermost.
func (m *isolatedModule) callCorrupt(method, what string) error {
	return fmt.Errorf("memlink: %w", m.corrupt(method, what))
}

// isolatedErr turns an isolate failure into this package's errors.
func (m *isolatedModule) isolatedErr(method string, err error) error {
	var f *isolate.Failure
	if !errors.As(err, &f) {
		if errors.Is(err, isolate.ErrNoSlot) {
			return fmt.Errorf("%s: method %q: every slot is taken, and this call, made from a host function of the same module, could be waiting for itself: %w",
				m.file, method, ErrReentrant)
		}
		if errors.Is(err, isolate.ErrClosed) {
			return fmt.Errorf("%s: %w", m.file, ErrUnknownHandle)
		}
		return err
	}
	switch f.Kind {
	case isolate.FailTimeout:
		return fmt.Errorf("%s: method %q ran longer than %v; its worker was killed: %w",
			m.file, method, f.Limit, ErrCallTimeout)
	case isolate.FailCanceled:
		if f.Killed {
			return fmt.Errorf("%s: method %q: %w; its worker was killed", m.file, method, f.Ctx)
		}
		return fmt.Errorf("%s: method %q: %w", m.file, method, f.Ctx)
	}
	ex := f.Exit
	if ex == nil {
		ex = &isolate.Exit{Status: -1}
	}
	detail := ""
	if f.Pending != nil {
		detail = "no worker runs: " + f.Pending.Error()
	}
	return crashError(m.file, method, ex, detail)
}

func (m *isolatedModule) hasState() bool { return m.c.Info().HasState }

func (m *isolatedModule) saveState() ([]byte, error) {
	state, res, err := m.c.GetState(context.Background(), maxStateBytes)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", hotreload.ErrStateTransfer, m.isolatedErr("memlink_serialize_state", err))
	case res.Kind == isolate.ResultTooLarge:
		return nil, fmt.Errorf("%w: %s reports %d bytes of state", hotreload.ErrStateTransfer, m.file, res.N)
	case res.Kind == isolate.ResultOverrun:
		return nil, fmt.Errorf("%w: %w", hotreload.ErrStateTransfer,
			m.corrupt("memlink_serialize_state", fmt.Sprintf("wrote past its %d-byte state buffer", res.Cap)))
	case res.Kind != isolate.ResultOK:
		return nil, fmt.Errorf("%w: %s: memlink_serialize_state returned %d", hotreload.ErrStateTransfer, m.file, res.Code)
	}
	return state, nil
}

func (m *isolatedModule) restoreState(state []byte) error {
	res, err := m.c.SetState(context.Background(), state)
	if err != nil {
		return fmt.Errorf("%w: %w", hotreload.ErrStateTransfer, m.isolatedErr("memlink_deserialize_state", err))
	}
	if res.Code != 0 {
		return fmt.Errorf("%w: %s: memlink_deserialize_state returned %d", hotreload.ErrStateTransfer, m.file, res.Code)
	}
	return nil
}

// arenaBytes reports the memory shared with the worker for call
// buffers, all of it mapped for the worker's slots.
func (m *isolatedModule) arenaBytes() int { return m.c.RegionBytes() }

// abandon kills the worker of a module whose calls did not drain in time,
// so that they fail now rather than hold the unload (or reload) for ever.
func (m *isolatedModule) abandon() { m.c.Abandon() }

// left is always false: the worker's replies are the calls' only marks, so
// an isolated call counts as in the module until it leaves the gate.
func (m *isolatedModule) left() bool { return false }

// freeBuffers does nothing: shutdown has freed everything.
func (m *isolatedModule) freeBuffers() error { return nil }

// shutdown runs memlink_shutdown in the worker and waits for it to exit
// (killing it after the drain timeout).
func (m *isolatedModule) shutdown() error {
	rc, err := m.c.Shutdown(m.drain)
	var f *isolate.Failure
	switch {
	case errors.As(err, &f) && f.Kind == isolate.FailTimeout:
		// Bounded by the drain timeout, not by CallTimeout.
		return fmt.Errorf("%s: memlink_shutdown ran longer than %v (WithDrainTimeout); its worker was killed: %w",
			m.file, m.drain, ErrCallTimeout)
	case err != nil:
		return fmt.Errorf("memlink_shutdown: %w", m.isolatedErr("memlink_shutdown", err))
	case rc != 0:
		return fmt.Errorf("%s: memlink_shutdown returned %d (%s)", m.file, rc, abi.CodeText(rc))
	}
	return nil
}

func (m *isolatedModule) addTotals(t *totals) { t.restarts = m.c.Restarts() }

// numRestartReasons is the number of WorkerRestartReasons.
const numRestartReasons = int(isolate.NumReasons)

// workerRestarts turns counts into ModuleStats.WorkerRestarts.
func workerRestarts(n *[numRestartReasons]uint64) map[string]uint64 {
	m := make(map[string]uint64, numRestartReasons)
	for i, r := range isolate.Reasons() {
		m[r] = n[i]
	}
	return m
}
