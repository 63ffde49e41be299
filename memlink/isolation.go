package memlink

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
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
// restarts on.
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
	// in its worker, in bytes (Linux only; ignored elsewhere): the address
	// space it adds, shared mappings included (RLIMIT_AS), and its
	// private writable memory (RLIMIT_DATA), each set before the module
	// is loaded to what the worker itself holds plus MemoryLimit plus an
	// allowance of four thread stacks, so a module reaches at least
	// MemoryLimit and at most that allowance more (docs/security.md says
	// what is bounded). Allocations beyond it fail, which usually ends
	// the worker; such an end is reported with reason "memory".
	MemoryLimit int64
	// Restart says what follows the loss of a worker. Default
	// RestartOnCrash.
	Restart RestartPolicy
	// Slots is how many calls can run in the worker at once (each is a
	// thread there); further callers wait for a free slot. Default 8.
	Slots int
}

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
// program would disturb. Each worker uses about 6 MiB of resident memory.
//
// Isolation is supported on Linux and, using pipes instead of futexes
// and without MemoryLimit, on macOS and the BSDs. Elsewhere (Windows) Load
// fails with an error matching errors.ErrUnsupported.
func WithIsolation(iso Isolation) LoadOption {
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

// CrashError is the error of a call on an isolated module whose worker
// process ended while the call ran in it. It matches ErrModuleCrashed.
type CrashError struct {
	// Module is the module's file name, such as "echo.so".
	Module string
	// Method is the method the caller called.
	Method string
	// Reason classifies the end: one of WorkerRestartReasons, or
	// "shutdown" for a worker killed because its module was unloaded (or
	// its runtime closed) while the call still ran.
	Reason string
	// Signal names the signal that ended the worker, such as "SIGSEGV",
	// or is empty when it exited.
	Signal string
	// ExitCode is the worker's exit status, or -1 when a signal ended it.
	ExitCode int
	// Pid is the worker's process id.
	Pid int
	// Detail says more when there is more to say: "killed after timeout:
	// a call ran longer than 2s", "memory limit of 256 MiB reached", or
	// why no new worker runs.
	Detail string
}

func (e *CrashError) Error() string {
	var b strings.Builder
	b.WriteString("memlink: module ")
	b.WriteString(e.Module)
	b.WriteString(" crashed: ")
	if e.Signal != "" {
		b.WriteString(e.Signal)
	} else {
		b.WriteString("exit status ")
		b.WriteString(strconv.Itoa(e.ExitCode))
	}
	if e.Detail != "" {
		b.WriteString(" (")
		b.WriteString(e.Detail)
		b.WriteString(")")
	}
	if e.Method != "" {
		b.WriteString(" in method ")
		b.WriteString(strconv.Quote(e.Method))
	}
	if e.Pid > 0 {
		b.WriteString(", worker pid ")
		b.WriteString(strconv.Itoa(e.Pid))
	}
	return b.String()
}

// Unwrap returns ErrModuleCrashed.
func (e *CrashError) Unwrap() error { return ErrModuleCrashed }

// CallContext is Call with a context. The context is checked before the
// call. For an isolated module it is also honoured while the call waits
// for a free slot or a restarting worker and while it runs: when it ends,
// a call the worker has not begun is withdrawn, and a running one kills
// the worker, and the call returns an error wrapping ctx.Err(). A module
// loaded in process cannot be interrupted: its call runs to the end, and
// the context only decides whether it starts.
func (rt *Runtime) CallContext(ctx context.Context, h Handle, method string, args []byte) ([]byte, error) {
	return rt.CallAppendContext(ctx, nil, h, method, args)
}

// CallAppendContext is CallAppend with a context, honoured as CallContext
// says.
//
// Its admission loop repeats CallAppend's on purpose: one shared function
// taking the context cost the 64-byte ABI-1 call 2-3 ns (4-6 %, measured
// interleaved), and CallAppend is the path the runtime is measured by.
func (rt *Runtime) CallAppendContext(ctx context.Context, dst []byte, h Handle, method string, args []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return dst, fmt.Errorf("memlink: handle %d: method %q: %w", h, method, err)
	}
	e := rt.lookup(h)
	if e == nil {
		return dst, rt.unknown(h)
	}
	for {
		in := e.cur.Load()
		if in != nil {
			if li, ok := in.gate.Enter(); ok {
				var out []byte
				var err error
				if in.iso != nil {
					out, err = in.callIsolated(ctx, dst, method, args)
				} else {
					out, err = in.call(li, dst, method, args)
				}
				in.gate.Exit(li)
				return out, err
			}
		}
		if err := e.await(in); err != nil {
			return dst, fmt.Errorf("memlink: handle %d: %w", h, err)
		}
	}
}

// isoInstance is the isolated half of an instance.
type isoInstance struct {
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
func openIsolated(o *options, path, name string, config []byte, gen uint64, iso Isolation, copied *privateFile) (*instance, error) {
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
		cfg.File = copied.memfd
	}
	c, err := isolate.Start(cfg)
	if err != nil {
		return nil, isolatedLoadErr(path, name, err)
	}
	return &instance{
		path:        path,
		file:        filepath.Base(path),
		gen:         gen,
		gate:        hotreload.NewGate(o.lanes),
		outCap:      o.outputCap,
		maxOutput:   o.maxOutput,
		sampleEvery: o.sampleEvery,
		iso:         &isoInstance{c: c, cfg: iso, drain: o.drainTimeout},
	}, nil
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
	return fmt.Errorf("memlink: isolation worker for %s: %w", name, lf.Err)
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

// callWorker is instance.call for an isolated instance, without a context.
func (in *instance) callWorker(dst []byte, method string, args []byte) ([]byte, error) {
	return in.callIsolated(context.Background(), dst, method, args)
}

// callIsolated is instance.call for an isolated instance.
func (in *instance) callIsolated(ctx context.Context, dst []byte, method string, args []byte) ([]byte, error) {
	if in.corrupted.Load() {
		in.spareStats.errs[errKindCorrupted].Add(1)
		return dst, in.corruptErr(method, "an earlier call")
	}
	iso := in.iso
	var start time.Time
	sample := in.sampleEvery != 0 && iso.tick.Add(1)%in.sampleEvery == 0
	if sample {
		start = time.Now()
	}
	out, res, err := iso.c.Call(ctx, dst, abi.MethodID(method), args)
	if sample {
		in.spareStats.observe(time.Since(start), true, callBucketNanos)
	}
	if err != nil {
		return dst, in.isolatedErr(method, err)
	}
	switch res.Kind {
	case isolate.ResultOK:
		return out, nil
	case isolate.ResultCode:
		kind := errKindCode
		if res.Code == abi.CodePanicked {
			kind = errKindPanicked
		}
		in.spareStats.errs[kind].Add(1)
		return dst, &CallError{Module: in.file, Method: method, Code: res.Code, Message: res.Message}
	case isolate.ResultOverrun:
		return dst, in.corruptIsolated(method, fmt.Sprintf("wrote past its %d-byte output buffer", res.Cap))
	case isolate.ResultLiar:
		return dst, in.corruptIsolated(method, fmt.Sprintf("reported %d output bytes in a %d-byte buffer", res.N, res.Cap))
	}
	return dst, fmt.Errorf("%w: %s: method %q asked for %d bytes; the limit is %d (WithMaxOutput)",
		ErrOutputTooLarge, in.file, method, res.N, res.Cap)
}

func (in *instance) corruptIsolated(method, what string) error {
	in.corrupted.Store(true)
	in.spareStats.errs[errKindCorrupted].Add(1)
	return in.corruptErr(method, what)
}

// isolatedErr turns an isolate failure into this package's errors.
func (in *instance) isolatedErr(method string, err error) error {
	var f *isolate.Failure
	if !errors.As(err, &f) {
		if errors.Is(err, isolate.ErrClosed) {
			return fmt.Errorf("memlink: %s: %w", in.file, ErrUnknownHandle)
		}
		return err
	}
	switch f.Kind {
	case isolate.FailTimeout:
		return fmt.Errorf("memlink: %s: method %q ran longer than %v; its worker was killed: %w",
			in.file, method, f.Limit, ErrCallTimeout)
	case isolate.FailCanceled:
		if f.Killed {
			return fmt.Errorf("memlink: %s: method %q: %w; its worker was killed", in.file, method, f.Ctx)
		}
		return fmt.Errorf("memlink: %s: method %q: %w", in.file, method, f.Ctx)
	}
	ex := f.Exit
	if ex == nil {
		ex = &isolate.Exit{Status: -1}
	}
	detail := ""
	if f.Pending != nil {
		detail = "no worker runs: " + f.Pending.Error()
	}
	return crashError(in.file, method, ex, detail)
}

// hasState reports whether the module exports the state functions.
func (in *instance) hasState() bool {
	if in.iso != nil {
		return in.iso.c.Info().HasState
	}
	return in.mod.HasState()
}

// saveState serialises the module's state for a stateful reload.
func (in *instance) saveState() ([]byte, error) {
	if in.iso == nil {
		size := in.mod.StateSize()
		if size > maxStateBytes {
			return nil, fmt.Errorf("%w: %s reports %d bytes of state", hotreload.ErrStateTransfer, in.file, size)
		}
		state := make([]byte, size)
		if rc := in.mod.SerializeState(state); rc != 0 {
			return nil, fmt.Errorf("%w: %s: memlink_serialize_state returned %d", hotreload.ErrStateTransfer, in.file, rc)
		}
		return state, nil
	}
	state, res, err := in.iso.c.GetState(context.Background(), maxStateBytes)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %w", hotreload.ErrStateTransfer, in.file, in.isolatedErr("memlink_serialize_state", err))
	case res.Kind == isolate.ResultTooLarge:
		return nil, fmt.Errorf("%w: %s reports %d bytes of state", hotreload.ErrStateTransfer, in.file, res.N)
	case res.Kind != isolate.ResultOK:
		return nil, fmt.Errorf("%w: %s: memlink_serialize_state returned %d", hotreload.ErrStateTransfer, in.file, res.Code)
	}
	return state, nil
}

// restoreState hands a state saved by saveState to the module.
func (in *instance) restoreState(state []byte) error {
	rc := int32(0)
	if in.iso == nil {
		rc = in.mod.DeserializeState(state)
	} else {
		res, err := in.iso.c.SetState(context.Background(), state)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", hotreload.ErrStateTransfer, in.source(), in.isolatedErr("memlink_deserialize_state", err))
		}
		rc = res.Code
	}
	if rc != 0 {
		return fmt.Errorf("%w: %s: memlink_deserialize_state returned %d", hotreload.ErrStateTransfer, in.source(), rc)
	}
	return nil
}

// isolation returns the isolation the instance was loaded with, or nil.
func (in *instance) isolation() *Isolation {
	if in.iso == nil {
		return nil
	}
	iso := in.iso.cfg
	return &iso
}

// arena reports the memory set aside for call buffers: the arena of an
// in-process instance, the shared region of an isolated one.
func (in *instance) arena() (used, capacity int) {
	if in.iso != nil {
		n := in.iso.c.RegionBytes()
		return n, n
	}
	return in.mem.Used(), in.mem.Capacity()
}

// abandon kills the worker of an isolated instance whose calls did not
// drain in time, so that they fail now rather than hold the unload (or
// reload) for ever. It does nothing in process, where calls cannot be
// stopped.
func (in *instance) abandon() {
	if in.iso != nil {
		in.iso.c.Abandon()
	}
}

// shutdownIsolated runs memlink_shutdown in the worker, waits for it to
// exit (killing it after the drain timeout) and removes a private copy.
func (in *instance) shutdownIsolated() error {
	rc, err := in.iso.c.Shutdown(in.iso.drain)
	if err != nil {
		err = fmt.Errorf("memlink: %s: memlink_shutdown: %w", in.source(), in.isolatedErr("memlink_shutdown", err))
	} else if rc != 0 {
		err = fmt.Errorf("memlink: %s: memlink_shutdown returned %d (%s)", in.source(), rc, abi.CodeText(rc))
	}
	if in.private != nil {
		err = errors.Join(err, in.private.remove())
	}
	return err
}

// numRestartReasons is the number of WorkerRestartReasons.
const numRestartReasons = int(isolate.NumReasons)

// restarts returns the worker losses of an isolated instance by reason.
func (in *instance) restarts() [numRestartReasons]uint64 {
	if in.iso == nil {
		return [numRestartReasons]uint64{}
	}
	return in.iso.c.Restarts()
}

// workerRestarts turns counts into ModuleStats.WorkerRestarts.
func workerRestarts(n *[numRestartReasons]uint64) map[string]uint64 {
	m := make(map[string]uint64, numRestartReasons)
	for i, r := range isolate.Reasons() {
		m[r] = n[i]
	}
	return m
}
