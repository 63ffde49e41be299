package memlink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/gate"
)

// Handle identifies a loaded module within one Runtime. Handles are not
// reused while the runtime lives; the zero Handle is never valid.
type Handle uint64

// ModuleRuntime is what a service that loads, calls, reloads and watches
// modules needs from a runtime: every method of *Runtime but ReloadFile. Depend on it instead of *Runtime to
// substitute a fake in tests; *Runtime implements it.
type ModuleRuntime interface {
	Load(ref Ref, opts ...LoadOption) (Handle, error)
	LoadDir(dir string, opts ...LoadOption) (map[string]Handle, error)
	Call(h Handle, method string, args []byte) ([]byte, error)
	CallAppend(dst []byte, h Handle, method string, args []byte) ([]byte, error)
	CallContext(ctx context.Context, h Handle, method string, args []byte) ([]byte, error)
	CallAppendContext(ctx context.Context, dst []byte, h Handle, method string, args []byte) ([]byte, error)
	Reload(h Handle, ref Ref, cfg hotreload.Config, opts ...LoadOption) (hotreload.Report, error)
	Unload(h Handle) error
	Usage(h Handle) (Usage, bool)
	Stats() Stats
	Path(h Handle) (string, bool)
	Handles() []Handle
	Lookup(name string) (Handle, bool)
	SandboxReport(h Handle) (SandboxReport, bool)
	Watch(ctx context.Context, h Handle, path string, cfg hotreload.WatchConfig) (*hotreload.Watcher, error)
	WatchDir(ctx context.Context, dir string, cfg DirWatchConfig) (*DirWatcher, error)
	Close() error
}

var _ ModuleRuntime = (*Runtime)(nil)

// Runtime loads native modules, calls them and unloads them. It is safe for
// concurrent use; calls on one handle, or on many, may come from any number
// of goroutines. Create one with New and release it with Close.
type Runtime struct {
	opts options

	mu    sync.Mutex               // serialises changes to the table
	table atomic.Pointer[[]*entry] // copy-on-write; read without locks
	free  []uint32                 // unused table indices
	seq   uint32                   // high half of the next handle

	closed atomic.Bool
	stats  runtimeCounters

	privMu  sync.Mutex
	privDir string // private copies of reloaded modules; removed by Close
}

// New returns a runtime with the given options.
func New(opts ...Option) *Runtime {
	rt := &Runtime{opts: defaultOptions()}
	for _, o := range opts {
		o(&rt.opts)
	}
	if len(rt.opts.invalid) > 0 {
		// New has no error result, and runtime options are the program's
		// own constants: a value out of range is a bug to fix, not a
		// condition to handle.
		panic("memlink: New: " + errors.Join(rt.opts.invalid...).Error())
	}
	if lr, ok := rt.opts.resolver.(LocalResolver); ok && rt.opts.registry != nil && lr.Registry == nil {
		lr.Registry = rt.opts.registry
		rt.opts.resolver = lr
	}
	empty := []*entry{}
	rt.table.Store(&empty)
	removeStalePrivateDirs()
	return rt
}

func (h Handle) index() uint32 { return uint32(h) - 1 }

// lookup finds the entry of h without taking a lock.
func (rt *Runtime) lookup(h Handle) *entry {
	t := *rt.table.Load()
	i := h.index()
	if uint64(i) >= uint64(len(t)) {
		return nil
	}
	if e := t[i]; e != nil && e.h == h {
		return e
	}
	return nil
}

func (rt *Runtime) unknown(h Handle) error {
	if rt.closed.Load() {
		return fmt.Errorf("memlink: handle %v: %w", h, ErrClosed)
	}
	return fmt.Errorf("memlink: handle %v: %w", h, ErrUnknownHandle)
}

// Load resolves ref, validates the file (it must be a shared library for
// this operating system and CPU), opens it, binds the ABI exports, and calls
// memlink_init with the configuration from WithConfig. On any failure the
// library is closed again and the error is a *LoadError wrapping one of
// ErrNotFound, ErrInvalidModule, ErrMissingSymbol, ErrABIVersion or
// ErrInitFailed.
//
// The module is loaded from a private copy of the file (in a directory only
// this process uses, removed on Unload and Close), and the copy is what is
// validated and opened, so that the bytes checked are the bytes run and a
// file rewritten in place while loaded cannot crash the process. Loading
// one file twice therefore gives two independent instances with their own
// global variables. LoadInPlace opens the file itself instead.
func (rt *Runtime) Load(ref Ref, opts ...LoadOption) (Handle, error) {
	start := time.Now()
	h, err := rt.load(ref, opts)
	rt.stats.loadDur.observe(time.Since(start), true, lifecycleBucketNanos)
	if err != nil {
		rt.stats.loadErr(err)
		return 0, err
	}
	rt.stats.loads.Add(1)
	return h, nil
}

func (rt *Runtime) load(ref Ref, opts []LoadOption) (Handle, error) {
	if rt.closed.Load() {
		return 0, &LoadError{Ref: ref.String(), Err: ErrClosed}
	}
	var lo loadOptions
	for _, o := range opts {
		o(&lo)
	}
	if err := lo.check(); err != nil {
		return 0, &LoadError{Ref: ref.String(), Err: err}
	}
	in, err := rt.open(ref, lo, 1, !lo.inPlace)
	if err != nil {
		return 0, err
	}
	e := newEntry(in, lo)
	if err := rt.insert(e); err != nil {
		_ = in.discard() // the runtime closed under us; that is the error
		return 0, &LoadError{Ref: ref.String(), Path: in.source(), Err: err}
	}
	in.binding.attach(e.h)
	in.mod.base().identify(e.h, 0)
	return e.h, nil
}

// resolve asks the runtime's resolver where ref is. The default
// resolver does not look whether the file exists: readModule opens it
// anyway and reports a missing one as ErrNotFound.
func (rt *Runtime) resolve(ref Ref) (Resolution, error) {
	if lr, ok := rt.opts.resolver.(LocalResolver); ok {
		return lr.resolve(ref, false)
	}
	return rt.opts.resolver.Resolve(ref)
}

// open resolves ref and opens the module, from a private copy when private
// is set, enforcing the permission policy and any pinned digest. Errors are
// *LoadError.
func (rt *Runtime) open(ref Ref, lo loadOptions, gen uint64, private bool) (*instance, error) {
	res, err := rt.resolve(ref)
	if err != nil {
		return nil, &LoadError{Ref: ref.String(), Err: err}
	}
	path := res.Path
	fail := func(err error) (*instance, error) {
		return nil, &LoadError{Ref: ref.String(), Path: path, Err: err}
	}
	if lo.isolation != nil {
		if err := lo.isolation.Sandbox.covers(res.Sandbox); err != nil {
			return fail(err)
		}
	}
	want, err := pinnedDigest(ref.Digest(), res.Digest, lo.digest)
	if err != nil {
		return fail(err)
	}
	if !private && want != "" {
		return fail(errors.New("a pinned digest is verified on a private copy; it cannot be combined with LoadInPlace"))
	}
	// The file is opened once, checked (permission policy, size, header)
	// and copied from that one descriptor (private.go); errors name the
	// original.
	copied, got, err := rt.readModule(path, private, want != "")
	if err != nil {
		return fail(err)
	}
	target := path
	if copied != nil {
		if want != "" && got != want {
			_ = copied.remove()
			return fail(&DigestError{Path: path, Expected: want, Actual: got})
		}
		target = copied.path
	}
	gate := gate.NewGate(rt.opts.lanes)
	hb, err := rt.newHostBinding(lo.host, moduleName(path), gen)
	if err != nil {
		if copied != nil {
			_ = copied.remove()
		}
		return fail(err)
	}
	var m module
	if lo.isolation != nil {
		m, err = openIsolated(&rt.opts, target, path, lo.config, *lo.isolation, copied, gate.Lanes(), hb)
	} else {
		var ex abi.Exports // unknown for a file loaded in place, which may change after its check
		if copied != nil {
			ex = copied.exports
		}
		var n *nativeModule
		if n, err = openNative(&rt.opts, target, path, ex, lo.config, gate.Lanes(), hb); err == nil {
			m = n
			if copied != nil {
				copied.lib = n.lib
			}
		}
	}
	if err != nil {
		if copied != nil {
			_ = copied.remove()
		}
		return fail(err)
	}
	in := newInstance(gate, target, gen, m)
	m.base().identify(lo.host.handle, gen)
	in.host, in.binding = hb.bound(), hb
	if copied != nil {
		in.private, in.origin = copied, path
	}
	return in, nil
}

// pinnedDigest merges the digests a module is pinned to: they must agree.
func pinnedDigest(digests ...string) (string, error) {
	want := ""
	for _, d := range digests {
		switch {
		case d == "":
		case want == "":
			want = d
		case d != want:
			return "", fmt.Errorf("%w: conflicting pins %s and %s", ErrDigestMismatch, want, d)
		}
	}
	return want, nil
}

func (rt *Runtime) insert(e *entry) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed.Load() {
		return ErrClosed
	}
	old := *rt.table.Load()
	t := slices.Clone(old)
	var i uint32
	if n := len(rt.free); n > 0 {
		i, rt.free = rt.free[n-1], rt.free[:n-1]
	} else {
		i = uint32(len(t))
		t = append(t, nil)
	}
	rt.seq++
	e.h = Handle(uint64(rt.seq)<<32 | uint64(i+1))
	t[i] = e
	rt.table.Store(&t)
	return nil
}

// remove takes h out of the table, so that new lookups fail at once.
func (rt *Runtime) remove(h Handle) *entry {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	e := rt.lookup(h)
	if e == nil {
		return nil
	}
	t := slices.Clone(*rt.table.Load())
	t[h.index()] = nil
	rt.free = append(rt.free, h.index())
	rt.table.Store(&t)
	return e
}

// Call calls method on the module behind h with args and returns the
// module's output in a new slice. It is CallAppend(nil, ...).
func (rt *Runtime) Call(h Handle, method string, args []byte) ([]byte, error) {
	return rt.CallAppend(nil, h, method, args)
}

// CallAppend calls method on the module behind h with args and appends the
// module's output to dst, returning the extended slice (dst unchanged on
// error). It does not allocate when dst has room for the output.
//
// The method name reaches the module as its FNV-1a id (abi.MethodID). For
// an ABI-1 module the output is the bytes its memlink_call wrote before the
// first NUL (all of the buffer if there is none); for an ABI-2 module it is
// exactly the bytes memlink_call_v2 reported. A non-zero return code is a
// *CallError; a module that writes past its buffer is marked corrupted and
// fails with ErrModuleCorrupted from then on.
//
// Calls are safe from any number of goroutines, and never run on a module
// that has been unloaded: a call racing with Unload either completes before
// the library is closed or fails with ErrUnknownHandle. A call racing with
// Reload runs on the old or the new version, never fails because of it.
//
// args must not be modified while the call runs. The module may read it
// directly; it is not copied.
func (rt *Runtime) CallAppend(dst []byte, h Handle, method string, args []byte) ([]byte, error) {
	// The common case straight through, the rest in callAppend: a loop
	// and error paths in this function cost every call spills and reloads
	// of its arguments. The gate's TryEnter and Leave are inlined (Enter
	// and Exit are calls); a busy hinted lane or a closed gate goes the
	// long way, through callAppend and Enter.
	if e := rt.lookup(h); e != nil {
		if in := e.cur.Load(); in != nil && in.native != nil && in.host == nil {
			if li, ok := in.gate.TryEnter(gate.Hint()); ok {
				var out []byte
				var err error
				if l := in.native.readyLane(li); l != nil {
					out, err = l.call(dst, method, args)
				} else {
					out, err = in.native.callNewLane(li, dst, method, args)
				}
				if in.gate.Leave(li) {
					in.gate.Wake()
				}
				return out, err
			}
		}
	}
	return rt.callAppend(context.Background(), dst, h, method, args)
}

// callAppend is CallAppend and CallAppendContext beyond their common case:
// an unknown handle, a module in a worker or bound to the host, a gate
// closed by a reload (it waits for the next version and tries again).
func (rt *Runtime) callAppend(ctx context.Context, dst []byte, h Handle, method string, args []byte) ([]byte, error) {
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
				if in.host != nil {
					out, err = in.callHosted(ctx, li, dst, method, args)
				} else if n := in.native; n != nil {
					out, err = n.call(li, dst, method, args)
				} else {
					out, err = in.iso.call(ctx, dst, method, args)
				}
				in.gate.Exit(li)
				return out, err
			}
		}
		if err := e.await(in); err != nil {
			return dst, fmt.Errorf("memlink: handle %v: %w", h, err)
		}
	}
}

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
func (rt *Runtime) CallAppendContext(ctx context.Context, dst []byte, h Handle, method string, args []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return dst, fmt.Errorf("memlink: handle %v: method %q: %w", h, method, err)
	}
	return rt.callAppend(ctx, dst, h, method, args)
}

// Unload stops new calls on h at once (they fail with ErrUnknownHandle),
// calls memlink_shutdown and closes the library once the calls in flight
// have left the module's code, and returns when they have returned to
// their callers. If calls are still running after the drain timeout
// (WithDrainTimeout), Unload returns ErrDrainTimeout and the library is
// closed when the last of them is done.
func (rt *Runtime) Unload(h Handle) error {
	if err := rt.reentrant(h); err != nil {
		return err
	}
	e := rt.remove(h)
	if e == nil {
		return rt.unknown(h)
	}
	rt.stats.unloads.Add(1)
	return e.unload(rt.opts.drainTimeout)
}

// String returns a short, stable form of the handle for messages, logs
// and metric labels: "#" followed by its table slot and its sequence
// number, such as "#1.1" for the first module loaded. A slot is reused
// after Unload; the sequence number never is.
func (h Handle) String() string {
	return "#" + strconv.FormatUint(uint64(uint32(h)), 10) + "." + strconv.FormatUint(uint64(h>>32), 10)
}

// Usage reports the call count, arena use, calls in flight and reload
// generation of the module behind h, or false for an unknown handle.
func (rt *Runtime) Usage(h Handle) (Usage, bool) {
	e := rt.lookup(h)
	if e == nil {
		return Usage{}, false
	}
	return e.usage(), true
}

// Handles returns the handles of the loaded modules, in load order.
func (rt *Runtime) Handles() []Handle {
	t := *rt.table.Load()
	hs := make([]Handle, 0, len(t))
	for _, e := range t {
		if e != nil {
			hs = append(hs, e.h)
		}
	}
	slices.SortFunc(hs, func(a, b Handle) int { return cmp.Compare(a>>32, b>>32) })
	return hs
}

// Path returns the file the module behind h was loaded from (the current
// version's, after a reload), or false for an unknown handle.
func (rt *Runtime) Path(h Handle) (string, bool) {
	e := rt.lookup(h)
	if e == nil {
		return "", false
	}
	in := e.cur.Load()
	if in == nil { // unloaded since the lookup
		return "", false
	}
	return in.source(), true
}

// Close unloads every module and makes the runtime refuse further use with
// ErrClosed. It is idempotent and safe to call concurrently: only the first
// call does the work; later calls return nil at once.
func (rt *Runtime) Close() error {
	if err := rt.reentrant(0); err != nil {
		return err
	}
	if !rt.closed.CompareAndSwap(false, true) {
		return nil
	}
	rt.mu.Lock()
	t := *rt.table.Load()
	empty := []*entry{}
	rt.table.Store(&empty)
	rt.free = nil
	rt.mu.Unlock()

	var wg sync.WaitGroup
	errs := make([]error, len(t))
	for i, e := range t {
		if e == nil {
			continue
		}
		rt.stats.unloads.Add(1)
		wg.Go(func() { errs[i] = e.unload(rt.opts.drainTimeout) })
	}
	wg.Wait()
	rt.privMu.Lock()
	if rt.privDir != "" {
		// Copies still in use by a library that has not drained yet are
		// removed when it closes; on Linux and macOS removing the directory
		// now is harmless to a mapped library. On Windows a DLL that stays
		// loaded (pinned) cannot be deleted before this process ends: the
		// stale-directory cleanup of a later process removes it.
		if err := os.RemoveAll(rt.privDir); err != nil && !fileInUse(err) {
			errs = append(errs, err)
		}
	}
	rt.privMu.Unlock()
	return errors.Join(errs...)
}

// LoadDir loads every file in dir whose name ends in this platform's
// shared-library extension (".so", ".dylib" or ".dll"), in name order, with
// opts for each. It returns the handles of the modules that loaded, keyed by
// module name (the file name without its extension, as Lookup and the
// `module` metric label name them), and a *DirError listing those that did
// not (or nil), keyed by file name. File names are taken as they are:
// "#sha256=" in one is part of the name, not a digest. WatchDir does the
// same and then keeps the directory and the loaded set in step.
func (rt *Runtime) LoadDir(dir string, opts ...LoadOption) (map[string]Handle, error) {
	names, err := moduleFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("memlink: load dir: %w", err)
	}
	loaded := make(map[string]Handle)
	var failed map[string]error
	for _, file := range names {
		h, err := rt.Load(FileRef(filepath.Join(dir, file)), opts...)
		if err == nil {
			loaded[moduleName(file)] = h
			continue
		}
		if failed == nil {
			failed = make(map[string]error)
		}
		failed[file] = err
	}
	if failed != nil {
		return loaded, &DirError{Dir: dir, Files: failed}
	}
	return loaded, nil
}

// entry is the runtime's record of one handle. It survives reloads; the
// instance it points to changes.
type entry struct {
	h    Handle
	name string // module label: file base name without extension
	cur  atomic.Pointer[instance]

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever cur or gone changes
	gone    bool
	live    []*instance // instances not yet shut down, the current one last
	base    totals      // counters of instances already shut down
	reloads [len(reloadResults)]uint64
	config  []byte

	reloadMu sync.Mutex // serialises reloads of this handle
}

func newEntry(in *instance, lo loadOptions) *entry {
	name := moduleName(in.source())
	if lo.nameSet {
		name = lo.name
	}
	e := &entry{
		name:    name,
		changed: make(chan struct{}),
		live:    []*instance{in},
		config:  lo.config,
	}
	e.cur.Store(in)
	return e
}

// moduleName is the file's base name without its extension.
func moduleName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// await is the slow path of a call that could not enter in: it returns
// ErrUnknownHandle when the handle is gone, waits while a stateful reload
// holds calls, and returns nil when the caller should try again.
func (e *entry) await(in *instance) error {
	e.mu.Lock()
	if e.gone {
		e.mu.Unlock()
		return ErrUnknownHandle
	}
	if e.cur.Load() != in || in == nil || !in.gate.Closed() {
		e.mu.Unlock()
		return nil
	}
	ch := e.changed
	e.mu.Unlock()
	<-ch
	return nil
}

// signal wakes callers waiting in await. e.mu must be held.
func (e *entry) signal() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// unload marks the entry gone and ends every live instance: those nobody
// owns yet it drains and shuts down itself; those a reload's timed-out
// retire already owns it waits for. If the timeout passes first, it
// abandons what is left (an isolated module's worker is killed, failing
// its calls) and returns ErrDrainTimeout; the owners finish later.
func (e *entry) unload(timeout time.Duration) error {
	e.reloadMu.Lock() // let a reload in progress finish first
	defer e.reloadMu.Unlock()
	e.mu.Lock()
	e.gone = true
	e.cur.Store(nil)
	live := slices.Clone(e.live)
	for _, in := range live {
		in.gate.Close()
	}
	e.signal()
	e.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for _, in := range live {
		if err := e.retire(ctx, in, true); err != nil {
			if errors.Is(err, ErrDrainTimeout) {
				in.abandon()
			}
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("memlink: unload %v (%s): %w", e.h, e.name, errors.Join(errs...))
}

// retire ends in, whose gate the caller has closed. If nobody owns its end
// yet, the caller becomes the owner and drains in two phases (see
// docs/design.md, "Why a drain has two phases"): it waits until no call
// in flight will run module code again and stops the instance (memlink_shutdown,
// the library closed), then waits for the calls to leave the gate and
// releases it (the call buffers freed, the counters folded in). With all
// false it returns after the first phase and leaves the second to a
// goroutine when calls are still copying their output (a reload: the new
// version serves already, and the old calls need only their buffers). If
// ctx ends first, it returns ErrDrainTimeout and a goroutine finishes the
// phases when the last call returns.
//
// If another party owns the end, retire waits for it within ctx instead of
// ending in a second time.
func (e *entry) retire(ctx context.Context, in *instance, all bool) error {
	if !in.claim() {
		select {
		case <-in.life.ended:
			return nil
		case <-ctx.Done():
			return e.drainTimeout(in)
		}
	}
	if err := in.gate.DrainUntil(ctx, in.mod.left); err != nil {
		go func() {
			_ = in.gate.DrainUntil(context.Background(), in.mod.left) // cannot fail without a deadline
			_ = in.stop()                                             // nobody is left to tell
			e.releaseLater(in)
		}()
		return e.drainTimeout(in)
	}
	err := in.stop()
	if in.gate.InFlight() == 0 {
		return errors.Join(err, e.finish(in))
	}
	if !all {
		go e.releaseLater(in)
		return err
	}
	if derr := in.gate.Drain(ctx); derr != nil {
		go e.releaseLater(in)
		return errors.Join(err, e.drainTimeout(in))
	}
	return errors.Join(err, e.finish(in))
}

// releaseLater is the owner's last step run in the background: it waits
// for the stopped instance's gate to empty and releases it.
func (e *entry) releaseLater(in *instance) {
	_ = in.gate.Drain(context.Background()) // cannot fail without a deadline
	_ = e.finish(in)                        // nobody is left to tell
}

func (e *entry) drainTimeout(in *instance) error {
	return fmt.Errorf("%s: %d call(s) still running: %w", in.file(), in.gate.InFlight(), ErrDrainTimeout)
}

// finish releases a stopped instance whose end the caller owns and whose
// gate is empty, then folds its counters into the entry's totals.
func (e *entry) finish(in *instance) error {
	err := in.release()
	e.mu.Lock()
	t := in.totals()
	e.base.add(&t)
	e.live = slices.DeleteFunc(e.live, func(x *instance) bool { return x == in })
	e.mu.Unlock()
	return err
}

// entrySnapshot is a consistent view of an entry's counters.
type entrySnapshot struct {
	totals   totals
	inFlight int
	cur      *instance // nil once unloaded
	reloads  [len(reloadResults)]uint64
}

// snapshot sums the counters of the entry across all its instances.
func (e *entry) snapshot() entrySnapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := entrySnapshot{totals: e.base, reloads: e.reloads}
	for _, in := range e.live {
		it := in.totals()
		s.totals.add(&it)
		s.inFlight += in.gate.InFlight()
	}
	if n := len(e.live); n > 0 {
		s.cur = e.live[n-1]
	}
	return s
}

func (e *entry) usage() Usage {
	s := e.snapshot()
	u := Usage{Calls: s.totals.calls, InFlight: s.inFlight, Reloads: reloadCounts(&s.reloads)}
	if cur := s.cur; cur != nil {
		u.Generation = cur.gen
		u.ArenaBytes = cur.mod.arenaBytes()
	}
	return u
}
