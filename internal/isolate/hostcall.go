package isolate

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/arena"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/hostcall"
)

// Host calls of an isolated module. The module runs in the worker; the
// host function must run in the host. A host call is made from inside a
// module call, on the worker goroutine serving that call's slot, while the
// host goroutine that posted the call polls the same slot for its answer.
// So the worker posts the host call in the slot:
//
//	worker: args into the host-call area, kind/fn/len/cap into the control
//	        line, state seq|stBusy -> seq|stHost (waking the host)
//	host:   runs the handler with the call's context (memlink finds it by
//	        goroutine, as in process), writes the answer into the host-call
//	        area and code/len into the control line,
//	        seq|stHost -> seq|stHostDone (waking the worker)
//	worker: copies the answer to the module, seq|stHostDone -> seq|stBusy
//
// Log records made inside a call travel the same way (kind hostKindLog).
// A drop (a cancelled or timed-out call) turns stHost or stHostDone into
// stDroppedBusy like stBusy, and the waiting side gives up.
//
// A thread the module started itself cannot be served in a worker: the Go
// runtime holds a callback from a thread it did not create until the
// program's main package is initialised (runtime.cgocallbackg waits on
// main_init_done), and a worker serves from memlink's init and never gets
// there. So the worker's table does not point at the callbacks but at two
// small C entries (hostcall_shim_*.s) that look at the thread first: a
// thread of the module's own gets -6 from call at once, and its log
// records are counted as lost (hLogsLost); every other call goes on to the
// callback. Where there are no such entries (not amd64 or linux/arm64),
// such a thread blocks in the callback for the worker's life, and a module
// call waiting for it ends with CallTimeout or its context, which kill the
// worker.

// Host-call kinds (sHostKind).
const (
	hostKindCall = 1
	hostKindLog  = 2
)

// serveHost answers the host call posted in sl by request seq.
func (w *worker) serveHost(sl *hostSlot, seq uint32) {
	v := sl.v
	area := v.hostArea()
	n := v.u64(sHostLen).Load()
	fn := v.u32(sHostFn).Load()
	code, outN := abi.CodeInvalidArgs, 0
	h := w.c.cfg.Host
	if n <= uint64(len(area)) {
		// The worker may scribble on the area: the handler gets a copy.
		sl.hostArgs = append(sl.hostArgs[:0], area[:n]...)
		switch v.u32(sHostKind).Load() {
		case hostKindLog:
			if h != nil {
				h.HostLog(int32(fn), sl.hostArgs)
			}
			code = 0
		case hostKindCall:
			if h == nil {
				code = abi.CodeUnknownMethod
				break
			}
			capacity := int(min(v.u64(sHostCap).Load(), uint64(len(area))))
			outN, code = h.HostCall(fn, sl.hostArgs, area[:0:capacity], len(area))
		}
	}
	v.u32(sHostCode).Store(uint32(code))
	v.u64(sHostLen).Store(uint64(outN))
	st := v.state()
	if st.CompareAndSwap(seq<<3|stHost, seq<<3|stHostDone) && v.u32(sWorkerAsleep).Load() != 0 {
		w.bell.wakeWorker(sl.i, st)
	}
}

// LogsLost counts the log records the current worker could not deliver
// (made from threads of the module's own), plus those of the workers
// before it.
func (c *Client) LogsLost() uint64 {
	n := c.logsLost.Load()
	if w := c.cur.Load(); w != nil && w.ref() {
		if w.life.load().phase < phaseDead {
			n += w.logsLost() // the reaper may be adding it right now: see below
		}
		w.unref()
	}
	// Never less than reported before (a worker being reaped can be seen
	// in both terms for a moment).
	for {
		prev := c.logsSeen.Load()
		if n <= prev {
			return prev
		}
		if c.logsSeen.CompareAndSwap(prev, n) {
			return n
		}
	}
}

// ref takes a reference on the mapping if it is still there.
func (w *worker) ref() bool {
	for {
		r := w.refs.Load()
		if r <= 0 {
			return false
		}
		if w.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

func (w *worker) logsLost() uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&w.mem[hLogsLost])).Load()
}

// outputPipe returns the file a worker's stdout or stderr should be, and
// what to do once the worker has started. With no line function it is
// def, as before; otherwise a pipe whose lines go to line (without their
// "\n" or "\r\n"; lines over 64 KiB come in pieces) until the worker and
// everything it started have closed it.
func outputPipe(line func([]byte), def *os.File) (*os.File, func(), error) {
	if line == nil {
		return def, func() {}, nil
	}
	r, wr, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	go func() {
		defer r.Close()
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			b, err := br.ReadSlice('\n')
			if len(b) > 0 {
				if b[len(b)-1] == '\n' {
					b = b[:len(b)-1]
					// A C runtime's text-mode stdout on Windows ends
					// each line with "\r\n": the line is the same.
					b = bytes.TrimSuffix(b, []byte{'\r'})
				}
				line(b)
			}
			if err != nil && err != bufio.ErrBufferFull {
				if err != io.EOF {
					_, _ = io.Copy(io.Discard, r) // keep the writer from blocking
				}
				return
			}
		}
	}()
	return wr, func() { wr.Close() }, nil
}

// ---- the worker's side -------------------------------------------------

// workerHost is the worker's host table and the slots that may post to it.
var workerHost struct {
	once  sync.Once
	table *abi.HostTable
	err   error
	sv    atomic.Pointer[server]
}

// bindHost gives mod the worker's host table, if it exports
// memlink_host_bind: bound reports that it did, rc what it returned.
func (sv *server) bindHost(mod *callpath.Module) (bound bool, rc int32, err error) {
	workerHost.once.Do(func() {
		mem, err := arena.New(int(abi.HostTableSize))
		if err != nil {
			workerHost.err = err
			return
		}
		b, err := mem.Alloc(int(abi.HostTableSize), 64)
		if err != nil {
			workerHost.err = err
			return
		}
		log, call := callpath.HostCallbacks(workerLog, workerCall)
		log, call = hostEntries(log, call, (*uint64)(unsafe.Pointer(&sv.mem[hLogsLost])))
		t := (*abi.HostTable)(unsafe.Pointer(&b[0]))
		*t = abi.HostTable{Version: abi.HostVersion, Size: uint32(abi.HostTableSize), Ctx: 1, Log: log, Call: call}
		workerHost.table = t // the arena is never closed: the module keeps the table
	})
	if workerHost.err != nil {
		return false, 0, workerHost.err
	}
	workerHost.sv.Store(sv)
	rc, present := mod.HostBind(workerHost.table)
	return present && rc == 0, rc, nil
}

// slotOf returns the slot whose goroutine this is, or nil (a thread of the
// module's own, or a callback outside any call).
func (sv *server) slotOf() *slotServer {
	g := hostcall.G()
	if g == 0 {
		return nil
	}
	for _, ss := range sv.slots {
		if ss != nil && ss.g == g {
			return ss
		}
	}
	return nil
}

func workerLog(_, level uintptr, msg *byte, n uintptr) uintptr {
	sv := workerHost.sv.Load()
	if sv == nil {
		return 0
	}
	ss := sv.slotOf()
	if ss == nil || (msg == nil && n != 0) {
		(*atomic.Uint64)(unsafe.Pointer(&sv.mem[hLogsLost])).Add(1)
		return 0
	}
	var b []byte
	if n > 0 {
		b = unsafe.Slice(msg, min(n, uintptr(sv.h.argCap)))
	}
	ss.hostRequest(hostKindLog, uint32(int32(level)), b, 0)
	return 0
}

func workerCall(_, id uintptr, args *byte, argsLen uintptr, out *byte, outCap uintptr, outLen *uintptr) uintptr {
	sv := workerHost.sv.Load()
	if sv == nil {
		return codeWord(abi.CodeInternal)
	}
	if outLen == nil || (args == nil && argsLen != 0) || (out == nil && outCap != 0) || argsLen > uintptr(sv.h.argCap) {
		return codeWord(abi.CodeInvalidArgs)
	}
	ss := sv.slotOf()
	if ss == nil {
		*outLen = 0
		return codeWord(abi.CodeInternal) // no call to carry it to the host
	}
	var a []byte
	if argsLen > 0 {
		a = unsafe.Slice(args, argsLen)
	}
	code, n, ok := ss.hostRequest(hostKindCall, uint32(id), a, uint64(outCap))
	if !ok {
		*outLen = 0
		return codeWord(abi.CodeInternal)
	}
	if code != abi.CodeOutputTooSmall && n > 0 {
		n = min(n, uint64(outCap), uint64(sv.h.argCap))
		copy(unsafe.Slice(out, n), ss.v.hostArea()[:n])
	}
	*outLen = uintptr(n)
	return codeWord(code)
}

// hostRequest posts one host call (or log record) in the slot and waits
// for the host's answer. ok is false when the host has given up on the
// module call.
func (ss *slotServer) hostRequest(kind, fn uint32, args []byte, capacity uint64) (code int32, n uint64, ok bool) {
	v := ss.v
	st := v.state()
	cur := st.Load()
	if cur&stMask != stBusy {
		return 0, 0, false
	}
	copy(v.hostArea(), args)
	v.u32(sHostKind).Store(kind)
	v.u32(sHostFn).Store(fn)
	v.u64(sHostLen).Store(uint64(len(args)))
	v.u64(sHostCap).Store(capacity)
	posted := cur&^stMask | stHost
	if !st.CompareAndSwap(cur, posted) {
		return 0, 0, false
	}
	if v.u32(sParentAsleep).Load() != 0 {
		ss.sv.bell.wakeHost(ss.i, st)
	}
	asleep := v.u32(sWorkerAsleep)
	for {
		now := st.Load()
		if now == cur&^stMask|stHostDone {
			break
		}
		if now != posted {
			return 0, 0, false // dropped: the host gave up on the call
		}
		if ss.sv.spinMax > 0 && spinWhileEqualLocked(st, posted, ss.sv.spinMax, v.u32(sWorkerCPU), v.u32(sHostCPU)) {
			continue
		}
		asleep.Store(1)
		if st.Load() == posted {
			ss.sv.bell.sleep(ss.i, st, posted)
		}
		asleep.Store(0)
	}
	code, n = int32(v.u32(sHostCode).Load()), v.u64(sHostLen).Load()
	if !st.CompareAndSwap(cur&^stMask|stHostDone, cur) {
		return 0, 0, false
	}
	return code, n, true
}

// codeWord widens a result code for a callback's return register.
func codeWord(c int32) uintptr { return uintptr(int64(c)) }
