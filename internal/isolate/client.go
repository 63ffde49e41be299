package isolate

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memlink/memlink-go/internal/sandbox"
)

// EnvWorker is the environment variable that marks a worker process. The
// host sets it when it re-executes its own program; IsWorker checks it.
const EnvWorker = "MEMLINK_ISOLATE_WORKER"

// IsWorker reports whether this process was started as an isolation
// worker.
func IsWorker() bool { return os.Getenv(EnvWorker) != "" }

// Restart back-off: the first restart after a healthy worker is
// immediate, each further one in a row waits twice as long as the last,
// from MinBackoff up to MaxBackoff. A worker was healthy when it lived at
// least HealthyAfter or answered at least HealthyCalls requests: the
// back-off is for modules that die at start-up or on their first calls,
// not for one bad request in many.
const (
	MinBackoff   = 10 * time.Millisecond
	MaxBackoff   = 5 * time.Second
	HealthyAfter = time.Second
	HealthyCalls = 100
)

// DefaultSlots is the number of calls a worker runs at once unless
// Config.Slots says otherwise.
const DefaultSlots = 8

// DefaultSpin is the longest either side polls for the other before
// sleeping, unless Config.Spin says otherwise.
const DefaultSpin = 50 * time.Microsecond

// Config describes an isolated module.
type Config struct {
	// Path is the module file the worker opens.
	Path string
	// File, when set, is an open descriptor of the module (such as a
	// sealed memfd holding a private copy) that the worker inherits and
	// opens through /proc/self/fd instead of Path; Path then only names
	// the module in messages. Linux only. The caller keeps it open for as
	// long as the client may start workers.
	File *os.File
	// Name labels the worker process (its argv[0] is "memlink-worker
	// Name") and nothing else.
	Name string
	// Init is the configuration passed to memlink_init.
	Init []byte
	// Slots is how many calls can run at once; each slot is a thread in
	// the worker. Default DefaultSlots.
	Slots int
	// ArgCap is the size of each slot's args area; larger arguments and
	// staged outputs travel in chunks of this size. Default 64 KiB.
	ArgCap int
	// OutputCap is the output buffer a call gets (the ABI-1 buffer, the
	// first ABI-2 capacity). Required.
	OutputCap int
	// MaxOutput bounds what an ABI-2 module may ask for with code -4.
	// Required.
	MaxOutput int
	// MemoryLimit, when positive, bounds what the module may add to the
	// worker's memory: its address space (RLIMIT_AS: private and shared
	// mappings, touched or not) and its private writable memory
	// (RLIMIT_DATA), each measured before the module is loaded, plus an
	// allowance of a few thread stacks (Linux only; see limitMemory and
	// MemoryLimitEnforced).
	MemoryLimit int64
	// CallTimeout, when positive, is how long a call (or a state
	// transfer) may run before its worker is killed.
	CallTimeout time.Duration
	// InitTimeout, when positive, is how long memlink_init may run in a
	// new worker before the worker is killed and the load fails with a
	// LoadTimeout; it counts from when the worker takes the load
	// request, and the process gets StartAllowance to come up on top of
	// it. Zero means CallTimeout; negative means no bound.
	InitTimeout time.Duration
	// Restart starts a new worker after one is lost. Without it, the
	// first loss fails every later call.
	Restart bool
	// Spin is the longest either side polls before sleeping. Zero means
	// DefaultSpin; negative never spins.
	Spin time.Duration
	// Sandbox, when set, confines every worker before the module loads
	// (Linux; see package sandbox).
	Sandbox *sandbox.Plan
}

// Info describes a loaded module.
type Info struct {
	// Pid is the worker's process id.
	Pid int
	// Version2 reports an ABI-2 module.
	Version2 bool
	// HasState reports that the module exports the state functions.
	HasState bool
}

// Client runs one module in a worker process, restarting the worker as
// its Config says. It is safe for concurrent use.
type Client struct {
	cfg  Config
	info Info

	cur atomic.Pointer[worker] // the worker calls go to, nil when none

	mu        sync.Mutex
	closed    bool
	starting  chan struct{} // closed when a start in progress ends
	lost      *Exit         // the last abnormal end
	startErr  error         // the last failed restart
	failures  int           // abnormal ends in a row
	notBefore time.Time     // no restart before this
	restarts  [NumReasons]atomic.Uint64
	pid       atomic.Int64
}

// errRetry reports a request the worker never took because it died first:
// the caller may run it on the next worker.
var errRetry = errors.New("isolate: worker gone before it took the request")

var errRestartOff = errors.New("restarts are off (RestartNever); reload or unload the module")

// Start starts a worker for cfg and loads the module in it. A failure is
// a *LoadFailure, or an error matching errors.ErrUnsupported where
// isolation is not available (Windows).
func Start(cfg Config) (*Client, error) {
	if cfg.Slots <= 0 {
		cfg.Slots = DefaultSlots
	}
	if cfg.ArgCap <= 0 {
		cfg.ArgCap = defaultArgCap
	}
	switch {
	case cfg.Spin == 0:
		cfg.Spin = DefaultSpin
	case cfg.Spin < 0:
		cfg.Spin = 0
	}
	if cfg.OutputCap <= 0 || cfg.MaxOutput <= 0 {
		return nil, errors.New("isolate: OutputCap and MaxOutput are required")
	}
	c := &Client{cfg: cfg}
	w, info, err := c.spawn(context.Background())
	if err != nil {
		return nil, err
	}
	c.info = info
	c.cur.Store(w)
	return c, nil
}

// spawn starts a worker and loads the module; on failure the worker is
// gone again when it returns.
func (c *Client) spawn(ctx context.Context) (*worker, Info, error) {
	w, err := startWorker(c)
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, Info{}, err
		}
		return nil, Info{}, &LoadFailure{Class: LoadStart, Err: err}
	}
	info, err := w.load(ctx)
	if err != nil {
		w.kill(reasonShutdown, "killed: the module did not load")
		<-w.life.deadCh
		return nil, Info{}, err
	}
	c.pid.Store(int64(info.Pid))
	return w, info, nil
}

// Info describes the module as the first worker loaded it.
func (c *Client) Info() Info { return c.info }

// Pid returns the process id of the current (or last) worker.
func (c *Client) Pid() int { return int(c.pid.Load()) }

// RegionBytes is the size of one worker's shared region.
func (c *Client) RegionBytes() int { return regionBytes(&c.cfg) }

// Restarts counts the workers lost abnormally, by Reason.
func (c *Client) Restarts() [NumReasons]uint64 {
	var n [NumReasons]uint64
	for i := range n {
		n[i] = c.restarts[i].Load()
	}
	return n
}

// Call calls method id with args and appends the output to dst. err is a
// *Failure when the worker gave no answer (lost, timed out, cancelled),
// ErrClosed after Shutdown or Kill; otherwise Result says what the module
// answered, and the output was appended only for ResultOK.
//
// A request the worker had not begun to run when it died is run again on
// the next worker, so only calls the worker had started fail with
// FailLost.
func (c *Client) Call(ctx context.Context, dst []byte, id uint32, args []byte) ([]byte, Result, error) {
	if err := ctx.Err(); err != nil {
		return dst, Result{}, &Failure{Kind: FailCanceled, Ctx: err}
	}
	for {
		w, err := c.worker(ctx)
		if err != nil {
			return dst, Result{}, err
		}
		out, res, err := w.call(ctx, dst, id, args)
		if !errors.Is(err, errRetry) {
			return out, res, err
		}
	}
}

// GetState serialises the module's state, refusing more than limit bytes
// (Result ResultTooLarge).
func (c *Client) GetState(ctx context.Context, limit uint64) ([]byte, Result, error) {
	for {
		w, err := c.worker(ctx)
		if err != nil {
			return nil, Result{}, err
		}
		b, res, err := w.getState(ctx, limit)
		if !errors.Is(err, errRetry) {
			return b, res, err
		}
	}
}

// SetState restores the module's state.
func (c *Client) SetState(ctx context.Context, state []byte) (Result, error) {
	for {
		w, err := c.worker(ctx)
		if err != nil {
			return Result{}, err
		}
		res, err := w.setState(ctx, state)
		if !errors.Is(err, errRetry) {
			return res, err
		}
	}
}

// worker returns the worker to send a request to, starting one when the
// last was lost (after the back-off; waiting for it within ctx).
func (c *Client) worker(ctx context.Context) (*worker, error) {
	if w := c.cur.Load(); w != nil && w.life.load().admits() {
		return w, nil
	}
	return c.restart(ctx)
}

func (c *Client) restart(ctx context.Context) (*worker, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		cur := c.cur.Load()
		if cur != nil && cur.life.load().admits() {
			c.mu.Unlock()
			return cur, nil
		}
		if ch := c.starting; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, &Failure{Kind: FailCanceled, Ctx: ctx.Err()}
			}
			continue
		}
		if cur != nil && cur.life.load().phase != phaseDead {
			// Killed or dying: wait until it is reaped, so that its end
			// is counted before deciding on the back-off.
			c.mu.Unlock()
			select {
			case <-cur.life.deadCh:
			case <-ctx.Done():
				return nil, &Failure{Kind: FailCanceled, Ctx: ctx.Err()}
			}
			continue
		}
		if !c.cfg.Restart && c.lost != nil {
			lost := c.lost
			c.mu.Unlock()
			return nil, &Failure{Kind: FailLost, Exit: lost, Pending: errRestartOff}
		}
		ch := make(chan struct{})
		c.starting = ch
		wait := time.Until(c.notBefore)
		c.mu.Unlock()

		w, err := c.startAfter(ctx, wait)

		c.mu.Lock()
		c.starting = nil
		close(ch)
		if err != nil {
			var f *Failure
			if errors.As(err, &f) && f.Kind == FailCanceled {
				c.mu.Unlock()
				return nil, err
			}
			c.startErr = err
			c.failures++
			c.notBefore = time.Now().Add(backoff(c.failures))
			lost := c.lost
			c.mu.Unlock()
			return nil, &Failure{Kind: FailLost, Exit: lost, Pending: err}
		}
		if c.closed {
			c.mu.Unlock()
			_, _ = w.shutdown(time.Second) // closed while it started: nobody wants its answer
			return nil, ErrClosed
		}
		c.cur.Store(w)
		c.mu.Unlock()
		return w, nil
	}
}

// startAfter waits d (within ctx) and starts a worker.
func (c *Client) startAfter(ctx context.Context, d time.Duration) (*worker, error) {
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, &Failure{Kind: FailCanceled, Ctx: ctx.Err()}
		}
	}
	w, _, err := c.spawn(ctx)
	return w, err
}

// backoff is the wait before the failures-th restart in a row.
func backoff(failures int) time.Duration {
	if failures <= 1 {
		return 0
	}
	d := MinBackoff
	for i := 2; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Shutdown stops the client: no new calls are admitted (they fail with
// ErrClosed), and the worker, if any, runs memlink_shutdown and exits; it
// is killed if it has not exited after timeout. Callers must have drained
// their own calls first. It returns memlink_shutdown's result; with no
// worker running (lost and not restarted) there is nothing to shut down
// and it returns 0.
func (c *Client) Shutdown(timeout time.Duration) (int32, error) {
	w := c.close()
	if w == nil {
		return 0, nil
	}
	return w.shutdown(timeout)
}

// Kill ends the worker at once: calls in flight fail with FailLost.
// The client is closed.
func (c *Client) Kill() {
	if w := c.close(); w != nil {
		w.kill(reasonShutdown, "killed: the module was unloaded while calls still ran")
		<-w.life.deadCh
	}
}

// Abandon is Kill without waiting for the worker to be reaped: the calls
// running in it fail as soon as it is gone, and a later Shutdown returns
// once it is.
func (c *Client) Abandon() {
	if w := c.close(); w != nil {
		w.kill(reasonShutdown, "killed: the module was unloaded while calls still ran")
	}
}

func (c *Client) close() *worker {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return c.cur.Load()
}
