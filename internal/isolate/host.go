package isolate

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// seqMask bounds the sequence number kept in the high bits of a state word.
const seqMask = 1<<29 - 1

// worker is the host's side of one worker process.
type worker struct {
	c        *Client
	g        geometry
	mem      []byte
	slots    []hostSlot
	sem      chan struct{} // one token per slot in use
	bell     *hostBell
	proc     *os.Process
	lifeline *os.File // write end of the lifeline; closing it ends the worker
	born     time.Time
	sys      workerSys // what this platform keeps per worker (host_*.go)

	life life         // the lifecycle: see life.go for its order
	refs atomic.Int64 // users of the mapping: the reaper and each request
}

// hostSlot is the host's view of one slot. Its owner (the goroutine that
// acquired it) is the only writer of seq.
type hostSlot struct {
	i        int
	v        slotView
	seq      uint32
	taken    atomic.Bool   // owned by a request
	canceled atomic.Uint32 // seq of a request whose context ended
	hostArgs []byte        // a copy of a host call's args (hostcall.go)
	answered atomic.Uint64 // requests answered, for the health rule
	svc      int64         // moving average of the worker's service time here, ns
}

// response is a worker's answer as read from a slot.
type response struct {
	kind, flags uint32
	code        int32
	n, aux      uint64
}

// workerEnv is the worker's environment: the host's, marked. Under a
// memory limit glibc's malloc is held to one arena (MALLOC_ARENA_MAX=1,
// unless the host's environment says otherwise): each further arena, one
// per thread that mallocs while another holds the first, reserves 64 MiB
// of address space, which would come out of the module's budget under
// RLIMIT_AS (see limitMemory).
func workerEnv(cfg *Config) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, EnvWorker+"=") })
	if cfg.MemoryLimit > 0 && runtime.GOOS == "linux" && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "MALLOC_ARENA_MAX=") }) {
		env = append(env, "MALLOC_ARENA_MAX=1")
	}
	return append(env, EnvWorker+"="+strings.Repeat("1", protoVersion))
}

// maxSleep bounds one sleep of a waiting host goroutine, so that it looks
// at its slot at least this often even if a wake-up were lost.
const maxSleep = 250 * time.Millisecond

// startPoll is how often a host goroutine looks whether a new worker has
// taken its load request, from which memlink_init's time counts.
const startPoll = 5 * time.Millisecond

// regionBytes is the size of the shared region of a worker for cfg.
func regionBytes(cfg *Config) int {
	return newGeometry(cfg.Slots, cfg.ArgCap, cfg.OutputCap, os.Getpagesize()).size()
}

// newWorker lays out the shared region mem for geometry g (header h,
// every slot's canary) and returns the host's side of a worker on it, not
// started yet.
func newWorker(c *Client, g geometry, mem []byte, bell *hostBell, h *header) *worker {
	h.put(mem)
	w := &worker{c: c, g: g, mem: mem, bell: bell, sem: make(chan struct{}, g.slots)}
	w.life.init()
	w.slots = make([]hostSlot, g.slots)
	for i := range w.slots {
		base := g.slotBase(i)
		end := base + g.slotLen()
		w.slots[i] = hostSlot{i: i, v: slotView{base: mem[base:end:end], g: &w.g}}
		copy(w.slots[i].v.canary(), h.canary[:])
	}
	return w
}

// newHeader is the header of a new worker's region for cfg.
func newHeader(cfg *Config, g geometry) header {
	h := header{geometry: g, maxOutput: uint64(cfg.MaxOutput), memLimit: uint64(max(cfg.MemoryLimit, 0)), spin: uint64(cfg.Spin)}
	rand.Read(h.canary[:])
	return h
}

// outputs returns the stdout and stderr of a new worker: the host's own,
// or with Config.Output pipes whose lines go there. started is to be
// called once the child has its copies.
func outputs(cfg *Config) (stdout, stderr *os.File, started func(), err error) {
	if cfg.Output == nil {
		return os.Stdout, os.Stderr, func() {}, nil
	}
	stdout, outStarted, err := outputPipe(func(b []byte) { cfg.Output(false, b) }, os.Stdout)
	if err != nil {
		return nil, nil, nil, err
	}
	stderr, errStarted, err := outputPipe(func(b []byte) { cfg.Output(true, b) }, os.Stderr)
	if err != nil {
		outStarted()
		return nil, nil, nil, err
	}
	return stdout, stderr, func() { outStarted(); errStarted() }, nil
}

// load runs opInit: the worker opens and binds the module and calls
// memlink_init.
func (w *worker) load(ctx context.Context) (Info, error) {
	cfg := &w.c.cfg
	path := cfg.Path
	if cfg.File != nil {
		path = "/proc/self/fd/" + strconv.Itoa(fdModule)
	}
	args := make([]byte, 4, 4+len(path)+len(cfg.Init))
	binary.LittleEndian.PutUint32(args, uint32(len(path)))
	args = append(append(args, path...), cfg.Init...)
	sl, err := w.acquire(ctx)
	if err != nil {
		return Info{}, w.loadErr(err)
	}
	defer w.release(sl)
	r, msg, err := w.request(ctx, sl, opInit, 0, args, 0, w.initBudget(), nil)
	if err != nil {
		return Info{}, w.loadErr(err)
	}
	switch r.kind {
	case respOK:
		w.life.ready()
		return Info{Pid: w.proc.Pid, Version2: r.flags&respV2 != 0, HasState: r.flags&respState != 0, HostBound: r.flags&respHost != 0}, nil
	case respLoadError:
		class := int(r.code)
		if class < LoadInvalid || class > LoadInit {
			class = LoadInvalid
		}
		// The worker names the file as it opened it; messages name Path.
		return Info{}, &LoadFailure{Class: class, Code: int32(uint32(r.aux)), Msg: strings.ReplaceAll(string(msg), path, cfg.Path)}
	}
	return Info{}, w.violation(fmt.Sprintf("answer kind %d to opInit", r.kind))
}

func (w *worker) loadErr(err error) error {
	var f *Failure
	if errors.As(err, &f) && f.Kind == FailTimeout {
		return &LoadFailure{Class: LoadTimeout, Err: err}
	}
	if errors.As(err, &f) && f.Kind == FailCanceled {
		return &LoadFailure{Class: LoadStart, Err: err} // matches the context's error
	}
	if errors.As(err, &f) && f.Exit != nil {
		return &LoadFailure{Class: LoadStart, Exit: f.Exit, Err: err}
	}
	if errors.Is(err, errRetry) {
		return &LoadFailure{Class: LoadStart, Exit: w.life.waitExit()}
	}
	return &LoadFailure{Class: LoadStart, Err: err}
}

// StartAllowance is how long a new worker process may take to come up and
// take its load request when memlink_init is bounded (Config.InitTimeout):
// starting a process (more so a race-instrumented one on a loaded
// machine) is not the module's time, and is not counted in InitTimeout.
const StartAllowance = 10 * time.Second

// budget bounds one request.
type budget struct {
	// run bounds the operation; zero means no bound. It counts from the
	// moment the request is posted, or with start from the moment the
	// worker takes it.
	run time.Duration
	// start, when positive, bounds how long the worker may take to take
	// the request (a new worker's load request).
	start time.Duration
	// what names the operation in messages: "a call", "memlink_init".
	what string
}

// initBudget bounds the load request of a new worker: InitTimeout
// (default CallTimeout) for memlink_init, from when the worker begins it,
// and StartAllowance for the process to come up.
func (w *worker) initBudget() budget {
	d := w.c.cfg.InitTimeout
	switch {
	case d == 0:
		d = max(w.c.cfg.CallTimeout, 0)
	case d < 0:
		d = 0
	}
	b := budget{run: d, what: "memlink_init"}
	if d > 0 {
		b.start = StartAllowance
	}
	return b
}

// callBudget bounds a request by CallTimeout.
func (w *worker) callBudget(what string) budget {
	return budget{run: max(w.c.cfg.CallTimeout, 0), what: what}
}

// acquire takes a free slot and a reference on the mapping. It takes the
// lowest free slot: a caller that calls again and again keeps getting the
// same one, whose worker thread is still polling for its next request,
// instead of rotating through slots whose threads have gone to sleep.
func (w *worker) acquire(ctx context.Context) (*hostSlot, error) {
	return w.acquireAs(ctx, false)
}

// acquireAs is acquire; stopping admits the request of the planned stop
// (opShutdown) to a worker that admits nothing else any more.
func (w *worker) acquireAs(ctx context.Context, stopping bool) (*hostSlot, error) {
	for {
		r := w.refs.Load()
		s := w.life.load()
		if admitted := s.admits() || stopping && s.stopping(); r <= 0 || !admitted {
			return nil, errRetry
		}
		if w.refs.CompareAndSwap(r, r+1) {
			break
		}
	}
	select {
	case w.sem <- struct{}{}:
	default:
		if nested(ctx) {
			w.unref()
			return nil, ErrNoSlot
		}
		select {
		case w.sem <- struct{}{}:
		case <-w.life.deadCh:
			w.unref()
			return nil, errRetry
		case <-ctx.Done():
			w.unref()
			return nil, &Failure{Kind: FailCanceled, Ctx: ctx.Err()}
		}
	}
	// Holding a token guarantees a free slot.
	for {
		for i := range w.slots {
			sl := &w.slots[i]
			if !sl.taken.Load() && sl.taken.CompareAndSwap(false, true) {
				return sl, nil
			}
		}
	}
}

func (w *worker) release(sl *hostSlot) {
	sl.taken.Store(false)
	<-w.sem
	w.unref()
}

func (w *worker) unref() {
	if w.refs.Add(-1) == 0 {
		w.bell.close()
		_ = unmap(w.mem)       // nothing uses the mapping any more; nobody to tell
		_ = w.lifeline.Close() // the worker is gone
		w.sys.release()
	}
}

// call runs memlink_call / memlink_call_v2 on the worker.
func (w *worker) call(ctx context.Context, dst []byte, id uint32, args []byte) ([]byte, Result, error) {
	sl, err := w.acquire(ctx)
	if err != nil {
		return dst, Result{}, err
	}
	defer w.release(sl)
	r, out, err := w.request(ctx, sl, opCall, id, args, 0, w.callBudget("a call"), dst)
	if err != nil {
		return dst, Result{}, err
	}
	switch r.kind {
	case respOK:
		return out, Result{Kind: ResultOK}, nil
	case respCode:
		return dst, Result{Kind: ResultCode, Code: r.code, Message: string(out[len(dst):])}, nil
	case respOverrun:
		return dst, Result{Kind: ResultOverrun, Cap: r.aux}, nil
	case respLiar:
		return dst, Result{Kind: ResultLiar, N: r.n, Cap: r.aux}, nil
	case respTooLarge:
		return dst, Result{Kind: ResultTooLarge, N: r.n, Cap: r.aux}, nil
	}
	return dst, Result{}, w.violation(fmt.Sprintf("answer kind %d to a call", r.kind))
}

// getState runs memlink_get_state_size and memlink_serialize_state.
func (w *worker) getState(ctx context.Context, limit uint64) ([]byte, Result, error) {
	sl, err := w.acquire(ctx)
	if err != nil {
		return nil, Result{}, err
	}
	defer w.release(sl)
	r, out, err := w.request(ctx, sl, opGetState, 0, nil, limit, w.callBudget("memlink_serialize_state"), nil)
	if err != nil {
		return nil, Result{}, err
	}
	switch r.kind {
	case respOK:
		return out, Result{Kind: ResultOK}, nil
	case respCode:
		return nil, Result{Kind: ResultCode, Code: r.code}, nil
	case respTooLarge:
		return nil, Result{Kind: ResultTooLarge, N: r.n, Cap: r.aux}, nil
	case respOverrun:
		return nil, Result{Kind: ResultOverrun, Cap: r.aux}, nil
	}
	return nil, Result{}, w.violation(fmt.Sprintf("answer kind %d to opGetState", r.kind))
}

// setState runs memlink_deserialize_state.
func (w *worker) setState(ctx context.Context, state []byte) (Result, error) {
	sl, err := w.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer w.release(sl)
	r, _, err := w.request(ctx, sl, opSetState, 0, state, 0, w.callBudget("memlink_deserialize_state"), nil)
	if err != nil {
		return Result{}, err
	}
	switch r.kind {
	case respOK:
		return Result{Kind: ResultOK}, nil
	case respCode:
		return Result{Kind: ResultCode, Code: r.code}, nil
	}
	return Result{}, w.violation(fmt.Sprintf("answer kind %d to opSetState", r.kind))
}

// shutdown asks the worker to run memlink_shutdown and exit, and waits
// for it to go, killing it when timeout passes first. It returns
// memlink_shutdown's result.
//
// A worker already dying (killed, or lost) or dead is not asked anything:
// shutdown waits for its end and returns 0.
func (w *worker) shutdown(timeout time.Duration) (int32, error) {
	if !w.life.planStop() {
		<-w.life.deadCh
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rc, err := int32(0), error(nil)
	if sl, aerr := w.acquireAs(ctx, true); aerr == nil {
		var r response
		r, _, err = w.request(context.Background(), sl, opShutdown, 0, nil, 0, budget{run: timeout, what: "memlink_shutdown"}, nil)
		if err == nil {
			rc = r.code
		}
		w.release(sl)
	}
	select {
	case <-w.life.deadCh:
	case <-ctx.Done():
		w.kill(reasonShutdown, "killed: it did not exit after memlink_shutdown")
		<-w.life.deadCh
	}
	return rc, err
}

// kill sends SIGKILL, once; the reaper records why. A worker the host was
// stopping anyway (Shutdown, a failed load) ends with reasonShutdown, so
// that its end is not counted as a loss; reasonShutdown itself marks the
// stop as planned.
func (w *worker) kill(r Reason, detail string) {
	if w.life.orderKill(r, detail) {
		_ = w.proc.Kill() // fails only when it has already exited, which is the aim
	}
}

// violation kills a worker that broke the protocol (its module scribbled
// on the shared region, most likely) and returns the error for the call.
func (w *worker) violation(what string) error {
	w.kill(ReasonCrash, "killed after a protocol violation: "+what)
	return &Failure{Kind: FailLost, Exit: w.life.waitExit(), Killed: true}
}

// reap waits for the process to end, records how, and fails the requests
// it had not answered, in the order life.go describes.
func (w *worker) reap() {
	ex, memoryHit := w.wait()
	s := w.life.seal()
	switch {
	case s.killed:
		ex.Reason, ex.Detail = s.why, s.detail
	case s.planned && ex.Status == exitOK:
		ex.Reason = reasonShutdown
	case memoryHit:
		ex.Reason = ReasonMemory
		ex.Detail = "memory limit of " + formatBytes(uint64(max(w.c.cfg.MemoryLimit, 0))) + " reached"
	default:
		ex.Reason = ReasonCrash
	}
	sandboxExit(&w.c.cfg, &ex, w.mem)
	w.c.logsLost.Add(w.logsLost())
	// Counted before anyone can see the end.
	w.c.workerEnded(w, ex)
	w.life.bury(ex)
	for i := range w.slots {
		w.drop(&w.slots[i], 0, true)
	}
	close(w.life.deadCh)
	w.unref()
}

// workerEnded is the reaper's report, made before the worker's death is
// published.
func (c *Client) workerEnded(w *worker, ex Exit) {
	if ex.Reason == reasonShutdown {
		return
	}
	c.restarts[ex.Reason].Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lost = &ex
	if time.Since(w.born) >= HealthyAfter || w.answered() >= HealthyCalls {
		c.failures = 0
	}
	c.failures++
	c.notBefore = time.Now().Add(backoff(c.failures))
	if c.cfg.Lost != nil {
		go c.cfg.Lost(ex) // not under c.mu
	}
}

func (w *worker) answered() uint64 {
	var n uint64
	for i := range w.slots {
		n += w.slots[i].answered.Load()
	}
	return n
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// drop gives up on the request seq posted in sl (any request when anySeq
// is set), if it is still posted or running, and wakes its waiter. It
// reports whether it did.
func (w *worker) drop(sl *hostSlot, seq uint32, anySeq bool) bool {
	st := sl.v.state()
	for {
		cur := st.Load()
		if !anySeq && cur>>3 != seq {
			return false
		}
		var next uint32
		switch cur & stMask {
		case stReq:
			next = cur&^stMask | stDroppedQueued
		case stBusy, stHost, stHostDone:
			next = cur&^stMask | stDroppedBusy
		default:
			return false
		}
		if st.CompareAndSwap(cur, next) {
			if sl.v.u32(sParentAsleep).Load() != 0 {
				w.bell.wakeHost(sl.i, st)
			}
			return true
		}
	}
}

// request runs one operation on sl: it stages args that do not fit the
// args area (opPut rounds), posts the operation, waits for the answer and
// collects its payload (from the output area, or with opFetch rounds). The
// payload is appended to dst. b bounds the whole of it.
func (w *worker) request(ctx context.Context, sl *hostSlot, op, method uint32, args []byte, total uint64, b budget, dst []byte) (response, []byte, error) {
	v := sl.v
	t := newTimer(b)
	var flags uint32
	if len(args) > w.g.argCap {
		for off := 0; off < len(args); off += w.g.argCap {
			n := copy(v.args(), args[off:])
			v.u32(sReqOp).Store(opPut)
			v.u64(sReqLen).Store(uint64(n))
			v.u64(sReqOffset).Store(uint64(off))
			v.u64(sReqTotal).Store(uint64(len(args)))
			r, err := w.roundTrip(ctx, sl, &t)
			if err != nil {
				return r, dst, err
			}
			if r.kind != respOK {
				return r, dst, w.violation("staging refused")
			}
		}
		flags = reqStaged
	} else {
		copy(v.args(), args)
	}
	v.u32(sReqOp).Store(op)
	v.u32(sReqMethod).Store(method)
	v.u64(sReqLen).Store(uint64(len(args)))
	v.u32(sReqFlags).Store(flags)
	v.u64(sReqTotal).Store(total)
	r, err := w.roundTrip(ctx, sl, &t)
	if err != nil {
		return r, dst, err
	}
	switch r.kind {
	case respOK, respCode, respLoadError:
	default:
		return r, dst, nil
	}
	if r.flags&respStaged == 0 {
		if r.n > uint64(w.g.outCap) {
			return r, dst, w.violation(fmt.Sprintf("%d payload bytes in a %d-byte area", r.n, w.g.outCap))
		}
		return r, append(dst, v.out()[:r.n]...), nil
	}
	if limit := max(uint64(w.c.cfg.MaxOutput), total); r.n > limit {
		return r, dst, w.violation(fmt.Sprintf("%d staged bytes, over the limit %d", r.n, limit))
	}
	base := len(dst)
	out := slices.Grow(dst, int(r.n))
	for got := uint64(0); got < r.n; {
		v.u32(sReqOp).Store(opFetch)
		v.u64(sReqOffset).Store(got)
		v.u32(sReqFlags).Store(0)
		f, err := w.roundTrip(ctx, sl, &t)
		if errors.Is(err, errRetry) {
			// The call itself ran; its answer is lost with the worker.
			err = &Failure{Kind: FailLost, Exit: w.life.waitExit()}
		}
		if err != nil {
			return r, out[:base], err
		}
		if f.kind != respOK || f.n == 0 || f.n > uint64(w.g.argCap) || f.n > r.n-got {
			return r, out[:base], w.violation("bad chunk")
		}
		out = append(out, v.args()[:f.n]...)
		got += f.n
	}
	return r, out, nil
}

// timer is a budget being spent by one request.
type timer struct {
	b        budget
	deadline time.Time // zero: none
	started  bool      // the worker has taken the request (with b.start)
}

func newTimer(b budget) timer {
	t := timer{b: b, started: b.start <= 0}
	switch {
	case b.start > 0:
		t.deadline = time.Now().Add(b.start)
	case b.run > 0:
		t.deadline = time.Now().Add(b.run)
	}
	return t
}

// taken starts the run budget once the worker has taken the request.
func (t *timer) taken() {
	if t.started {
		return
	}
	t.started = true
	t.deadline = time.Time{}
	if t.b.run > 0 {
		t.deadline = time.Now().Add(t.b.run)
	}
}

// expired says what passed, for a Failure and the kill's detail.
func (t *timer) expired() (what string, limit time.Duration) {
	if !t.started {
		return "the worker's start", t.b.start
	}
	return t.b.what, t.b.run
}

// roundTrip posts the request already written to sl and waits for the
// answer, the deadline, the context or the worker's end.
func (w *worker) roundTrip(ctx context.Context, sl *hostSlot, t *timer) (response, error) {
	v := sl.v
	st := v.state()
	sl.seq = (sl.seq + 1) & seqMask
	seq := sl.seq
	st.Store(seq<<3 | stReq)
	if v.u32(sWorkerAsleep).Load() != 0 {
		w.bell.wakeWorker(sl.i, st)
	}
	if w.life.load().phase == phaseDead {
		// The reaper may have looked at this slot before the request
		// was posted.
		w.drop(sl, seq, false)
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() {
			sl.canceled.Store(seq)
			w.drop(sl, seq, false)
		})
	}
	final, timedOut := w.await(sl, seq, t)
	if stop != nil {
		stop()
	}
	if final>>3 != seq {
		return response{}, w.violation(fmt.Sprintf("state word %#x, want sequence %d", final, seq))
	}
	switch final & stMask {
	case stDone:
		r := response{
			kind:  v.u32(sRespKind).Load(),
			code:  int32(v.u32(sRespCode).Load()),
			n:     v.u64(sRespLen).Load(),
			aux:   v.u64(sRespAux).Load(),
			flags: v.u32(sRespFlags).Load(),
		}
		svc := int64(v.u64(sRespNanos).Load())
		sl.svc += (svc - sl.svc) / 8
		sl.answered.Add(1)
		return r, nil
	case stDroppedQueued, stDroppedBusy:
		busy := final&stMask == stDroppedBusy
		switch {
		// A worker killed for this call is waited for, so that its end
		// is counted before the call returns.
		case timedOut:
			what, limit := t.expired()
			w.kill(ReasonTimeout, "killed after timeout: "+what+" ran longer than "+limit.String())
			return response{}, &Failure{Kind: FailTimeout, Killed: true, Exit: w.life.waitExit(), Op: what, Limit: limit}
		case sl.canceled.Load() == seq && ctx.Err() != nil:
			err := ctx.Err()
			f := &Failure{Kind: FailCanceled, Ctx: err, Killed: busy}
			if busy {
				if errors.Is(err, context.DeadlineExceeded) {
					w.kill(ReasonTimeout, "killed after timeout: a call ran past its context's deadline")
				} else {
					w.kill(ReasonCanceled, "killed: a running call's context was cancelled")
				}
				f.Exit = w.life.waitExit()
			}
			return response{}, f
		case !busy:
			return response{}, errRetry
		}
		return response{}, &Failure{Kind: FailLost, Exit: w.life.waitExit()}
	}
	return response{}, w.violation(fmt.Sprintf("state word %#x", final))
}

// await waits until request seq on sl is answered or dropped, spinning
// first when the worker's recent calls were short, then sleeping on the
// doorbell. At the deadline it drops the request itself. While a timer
// with a start budget waits for the worker to take the request, it looks
// every startPoll, since taking a request rings no doorbell.
func (w *worker) await(sl *hostSlot, seq uint32, t *timer) (final uint32, timedOut bool) {
	st := sl.v.state()
	asleep := sl.v.u32(sParentAsleep)
	spun, served := false, false
	for {
		cur := st.Load()
		if cur == seq<<3|stHost {
			w.serveHost(sl, seq) // the module calls the host (hostcall.go)
			// The module runs on: catch its answer or its next host call
			// by spinning again rather than on the doorbell, however long
			// the whole call has been taking (a call making many host
			// calls is long, but the gaps between them are short).
			spun, served = false, true
			continue
		}
		if cur != seq<<3|stReq && cur != seq<<3|stBusy && cur != seq<<3|stHostDone {
			return cur, timedOut
		}
		if cur == seq<<3|stBusy {
			t.taken()
		}
		if !spun {
			spun = true
			// Spin only when the module's recent calls were short enough
			// to be caught.
			if spin := w.c.cfg.Spin; spin > 0 && (served || time.Duration(sl.svc) < spin) && spinWhilePending(st, seq, spin, sl.v.u32(sHostCPU), sl.v.u32(sWorkerCPU)) {
				continue
			}
		}
		timeout := maxSleep
		if !t.started {
			timeout = startPoll
		}
		if deadline := t.deadline; !deadline.IsZero() {
			timeout = min(time.Until(deadline), timeout)
			if timeout <= 0 {
				if w.drop(sl, seq, false) {
					timedOut = true
				}
				continue
			}
		}
		asleep.Store(1)
		if st.Load() == cur {
			w.bell.sleep(sl.i, st, cur, timeout)
		}
		asleep.Store(0)
		if st.Load() == seq<<3|stReq && sl.v.u32(sWorkerAsleep).Load() != 0 {
			// Still not taken after a whole sleep: ring again rather than
			// trust that no wake-up can ever be lost.
			w.bell.wakeWorker(sl.i, st)
		}
	}
}
