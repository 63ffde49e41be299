//go:build unix

package isolate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/callpath"
	"github.com/memlink/memlink-go/internal/hostcall"
)

// Descriptors a worker inherits, through exec.Cmd.ExtraFiles.
const (
	fdRegion   = 3 // the shared region
	fdLifeline = 4 // read end of a pipe only the host writes: EOF = host gone
	fdModule   = 5 // the module file, when the host passes one
)

// Exit codes of a worker that ends on its own.
const (
	exitOK       = 0 // after memlink_shutdown
	exitOrphaned = 0 // the host went away
	exitBroken   = 70
)

// serve runs the worker and returns its exit code. It never returns while
// the host is alive and the worker healthy.
func serve() int {
	os.Unsetenv(EnvWorker)
	resetFatalSignals()
	becomeSubreaper()

	region := os.NewFile(fdRegion, "memlink-isolate")
	st, err := region.Stat()
	if err != nil {
		return fail("shared region: %v", err)
	}
	mem, err := mapShared(region, int(st.Size()))
	if err != nil {
		return fail("%v", err)
	}
	region.Close()
	h, err := parseHeader(mem)
	if err != nil {
		return fail("%v", err)
	}
	catchForbidden(mem)
	if h.exeFD != 0 {
		unix.Close(int(h.exeFD)) // this program's own image; the module has no use for it
	}
	for i := range h.slots {
		off, n := h.guard(i)
		if err := protectNone(mem[off : off+n]); err != nil {
			return fail("guard page: %v", err)
		}
	}
	bell, err := newWorkerBell(int(h.pipeBase), h.slots)
	if err != nil {
		return fail("%v", err)
	}
	sv := &server{h: h, mem: mem, bell: bell, slots: make([]*slotServer, h.slots)}
	sv.spinMax = time.Duration(h.spin)
	if h.memLimit > 0 {
		// Before any request is served: memlink_init runs under the limit.
		if err := limitMemory(h.memLimit, h.slots); err != nil {
			return fail("memory limit: %v", err)
		}
	}
	for i := range h.slots {
		sv.slots[i] = &slotServer{sv: sv, i: i, v: sv.slot(i)}
		go sv.serveSlot(sv.slots[i])
	}
	// The main goroutine watches the lifeline: the host holds the only
	// write end, so a read that returns means the host is gone (or asked
	// the worker to go), and the worker must not outlive it.
	var b [1]byte
	for {
		_, err := unix.Read(fdLifeline, b[:])
		if err != unix.EINTR {
			break
		}
	}
	// Nobody is left to reap the module's processes: kill them, those
	// that left the process group included (Linux), and the group with
	// this process in it.
	killDescendants()
	_ = unix.Kill(0, unix.SIGKILL)
	return exitOrphaned
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "memlink isolation worker: "+format+"\n", args...)
	return exitBroken
}

// server is the worker's state: the region and the module.
type server struct {
	h       header
	mem     []byte
	bell    *workerBell
	spinMax time.Duration

	mu  sync.Mutex // serialises opInit
	mod atomic.Pointer[callpath.Module]

	slots []*slotServer // by slot, for host calls to find theirs (hostcall.go)
}

// slotServer is what one slot's goroutine keeps between requests.
type slotServer struct {
	sv    *server
	i     int
	v     slotView
	frame callpath.Frame
	g     uintptr // hostcall.G of the slot's goroutine

	stagedIn  []byte // args assembled by opPut
	stagedOut []byte // a payload waiting for opFetch
	dirty     int    // ABI-1 output bytes to scrub before the next call
	dirtyArgs int
}

func (sv *server) slot(i int) slotView {
	base := sv.h.slotBase(i)
	end := base + sv.h.slotLen()
	return slotView{base: sv.mem[base:end:end], g: &sv.h.geometry}
}

// serveSlot answers the requests of slot i, one at a time, for ever. After
// each answer it polls for the next request for a while, then sleeps on the
// doorbell. The window adapts: back to the host's maximum whenever a
// request arrives in it, halved (down to minSpin) whenever none does.
func (sv *server) serveSlot(ss *slotServer) {
	i := ss.i
	ss.g = hostcall.G()
	state := ss.v.state()
	asleep := ss.v.u32(sWorkerAsleep)
	window := sv.spinMax
	for {
		cur := state.Load()
		if cur&stMask == stReq {
			if !state.CompareAndSwap(cur, cur&^stMask|stBusy) {
				continue
			}
			t0 := time.Now()
			op := ss.v.u32(sReqOp).Load()
			exit := ss.handle(op)
			ss.v.u64(sRespNanos).Store(uint64(time.Since(t0)))
			if state.CompareAndSwap(cur&^stMask|stBusy, cur&^stMask|stDone) && ss.v.u32(sParentAsleep).Load() != 0 {
				sv.bell.wakeHost(i, state)
			}
			if exit {
				// memlink_shutdown has run and the host has its answer.
				// What the module started ends with it (the host also
				// kills the process group once this process is gone).
				killDescendants()
				os.Exit(exitOK)
			}
			continue
		}
		if window > 0 {
			if spinWhileEqual(state, cur, window, ss.v.u32(sWorkerCPU), ss.v.u32(sHostCPU)) {
				window = sv.spinMax
				continue
			}
			window = max(window/2, min(minSpin, sv.spinMax))
		}
		asleep.Store(1)
		if state.Load() == cur {
			sv.bell.sleep(i, state, cur)
		}
		asleep.Store(0)
	}
}

// respond fills the response fields (the state word is set by the caller).
func (ss *slotServer) respond(kind uint32, code int32, n, aux uint64, flags uint32) {
	v := ss.v
	v.u32(sRespKind).Store(kind)
	v.u32(sRespCode).Store(uint32(code))
	v.u64(sRespLen).Store(n)
	v.u64(sRespAux).Store(aux)
	v.u32(sRespFlags).Store(flags)
}

// payload answers with b as the payload: inline in the output area when it
// fits, else staged for opFetch.
func (ss *slotServer) payload(kind uint32, code int32, b []byte, aux uint64) {
	out := ss.v.out()
	if len(b) <= len(out) {
		ss.scrub()
		copy(out, b)
		ss.dirty, ss.dirtyArgs = len(b), 0
		ss.respond(kind, code, uint64(len(b)), aux, 0)
		return
	}
	ss.stagedOut = b
	ss.respond(kind, code, uint64(len(b)), aux, respStaged)
}

// args returns the request's arguments: the staged ones or the args area.
func (ss *slotServer) args() ([]byte, bool) {
	n := ss.v.u64(sReqLen).Load()
	if ss.v.u32(sReqFlags).Load()&reqStaged != 0 {
		if n != uint64(len(ss.stagedIn)) {
			return nil, false
		}
		a := ss.stagedIn
		ss.stagedIn = nil
		return a, true
	}
	if n > uint64(ss.sv.h.argCap) {
		return nil, false
	}
	return ss.v.args()[:n], true
}

// handle answers one request and reports whether the worker must now exit.
func (ss *slotServer) handle(op uint32) (exit bool) {
	if op != opFetch {
		ss.stagedOut = nil
	}
	switch op {
	case opInit:
		ss.init()
	case opCall:
		ss.call()
	case opPut:
		ss.put()
	case opFetch:
		ss.fetch()
	case opGetState:
		ss.getState()
	case opSetState:
		ss.setState()
	case opShutdown:
		if mod := ss.sv.mod.Load(); mod != nil {
			ss.respond(respOK, mod.Shutdown(), 0, 0, 0)
		} else {
			ss.respond(respOK, 0, 0, 0, 0)
		}
		return true
	default:
		ss.respond(respBadOp, 0, 0, 0, 0)
	}
	return false
}

func (ss *slotServer) put() {
	off, total := ss.v.u64(sReqOffset).Load(), ss.v.u64(sReqTotal).Load()
	n := ss.v.u64(sReqLen).Load()
	if off == 0 {
		ss.stagedIn = make([]byte, total)
	}
	if n > uint64(ss.sv.h.argCap) || total != uint64(len(ss.stagedIn)) || off > total || n > total-off {
		ss.stagedIn = nil
		ss.respond(respBadOp, 0, 0, 0, 0)
		return
	}
	copy(ss.stagedIn[off:], ss.v.args()[:n])
	ss.respond(respOK, 0, 0, 0, 0)
}

func (ss *slotServer) fetch() {
	off := ss.v.u64(sReqOffset).Load()
	if ss.stagedOut == nil || off > uint64(len(ss.stagedOut)) {
		ss.respond(respBadOp, 0, 0, 0, 0)
		return
	}
	n := copy(ss.v.args(), ss.stagedOut[off:])
	if off+uint64(n) == uint64(len(ss.stagedOut)) {
		ss.stagedOut = nil
	}
	ss.respond(respOK, 0, uint64(n), 0, 0)
}

func (ss *slotServer) init() {
	sv := ss.sv
	sv.mu.Lock()
	defer sv.mu.Unlock()
	args, ok := ss.args()
	if !ok || len(args) < 4 || sv.mod.Load() != nil {
		ss.respond(respBadOp, 0, 0, 0, 0)
		return
	}
	n := binary.LittleEndian.Uint32(args)
	if uint64(n) > uint64(len(args)-4) {
		ss.respond(respBadOp, 0, 0, 0, 0)
		return
	}
	path, config := string(args[4:4+n]), args[4+n:]
	loadErr := func(class int32, err error) {
		ss.payload(respLoadError, class, []byte(err.Error()), 0)
	}
	lib, err := callpath.Open(path)
	if err != nil {
		loadErr(loadErrInvalid, err)
		return
	}
	mod, err := callpath.Bind(lib)
	if err != nil {
		lib.Close()
		class := int32(loadErrInvalid)
		switch {
		case errors.Is(err, abi.ErrMissingSymbol):
			class = loadErrSymbol
		case errors.Is(err, abi.ErrABIVersion):
			class = loadErrVersion
		}
		loadErr(class, err)
		return
	}
	bound, rc, err := sv.bindHost(mod)
	if err != nil {
		lib.Close()
		loadErr(loadErrInvalid, err)
		return
	}
	if rc != 0 {
		lib.Close()
		ss.respond(respLoadError, loadErrInit, 0, uint64(uint32(rc)), 0)
		return
	}
	if rc := mod.Init(config); rc != 0 {
		lib.Close()
		ss.respond(respLoadError, loadErrInit, 0, uint64(uint32(rc)), 0)
		return
	}
	sv.mod.Store(mod)
	var flags uint32
	if bound {
		flags |= respHost
	}
	if mod.Version >= abi.Version2 {
		flags |= respV2
	}
	if mod.HasState() {
		flags |= respState
	}
	ss.respond(respOK, 0, 0, uint64(os.Getpid()), flags)
}

func (ss *slotServer) getState() {
	mod := ss.sv.mod.Load()
	if mod == nil || !mod.HasState() {
		ss.respond(respBadOp, 0, 0, 0, 0)
		return
	}
	size := mod.StateSize()
	if limit := ss.v.u64(sReqTotal).Load(); size > limit {
		ss.respond(respTooLarge, 0, size, limit, 0)
		return
	}
	whole := make([]byte, size+heapGuard)
	buf := whole[:size:size]
	ss.armGuard(whole[size:])
	rc := mod.SerializeState(buf)
	if !ss.guardIntact(whole[size:]) {
		ss.respond(respOverrun, rc, 0, size, 0)
		return
	}
	if rc != 0 {
		ss.respond(respCode, rc, 0, 0, 0)
		return
	}
	ss.payload(respOK, 0, buf, 0)
}

func (ss *slotServer) setState() {
	mod := ss.sv.mod.Load()
	args, ok := ss.args()
	if mod == nil || !mod.HasState() || !ok {
		ss.respond(respBadOp, 0, 0, 0, 0)
		return
	}
	if rc := mod.DeserializeState(args); rc != 0 {
		ss.respond(respCode, rc, 0, 0, 0)
		return
	}
	ss.respond(respOK, 0, 0, 0, 0)
}

// scrubWindow is how far past an ABI-1 output the scrub looks for stray
// bytes; see memlink's instance.go, whose rule this repeats.
const scrubWindow = 64

// scrub zeroes what the last ABI-1 call (or inline payload) left in the
// output area, so that the next unterminated output reads right.
func (ss *slotServer) scrub() {
	if ss.dirty == 0 && ss.dirtyArgs == 0 {
		return
	}
	buf := ss.v.out()
	end := min(max(ss.dirty, ss.dirtyArgs), len(buf))
	clear(buf[:end])
	rest := buf[end:min(end+scrubWindow, len(buf))]
	if bytes.IndexFunc(rest, func(r rune) bool { return r != 0 }) >= 0 {
		clear(buf[end:])
	}
	ss.dirty, ss.dirtyArgs = 0, 0
}

// heapGuard is the canary-filled guard after a heap buffer the module
// writes (a -4 retry's, the state's), checked whole after the call.
const heapGuard = 256

func (ss *slotServer) armGuard(g []byte) {
	for i := 0; i < len(g); i += canarySize {
		copy(g[i:], ss.sv.h.canary[:])
	}
}

func (ss *slotServer) guardIntact(g []byte) bool {
	for i := 0; i < len(g); i += canarySize {
		if !bytes.Equal(g[i:min(i+canarySize, len(g))], ss.sv.h.canary[:min(canarySize, len(g)-i)]) {
			return false
		}
	}
	return true
}

func (ss *slotServer) canaryIntact() bool {
	return bytes.Equal(ss.v.canary(), ss.sv.h.canary[:])
}

func (ss *slotServer) call() {
	mod := ss.sv.mod.Load()
	args, ok := ss.args()
	if mod == nil || !ok {
		ss.respond(respBadOp, 0, 0, 0, 0)
		return
	}
	id := ss.v.u32(sReqMethod).Load()
	ss.scrub()
	out := ss.v.out()
	if mod.Version >= abi.Version2 {
		ss.callV2(mod, id, args, out)
		return
	}
	rc := mod.Call(&ss.frame, id, args, unsafe.Pointer(&out[0]))
	if !ss.canaryIntact() {
		ss.respond(respOverrun, rc, 0, uint64(len(out)), 0)
		return
	}
	n := bytes.IndexByte(out, 0)
	if n < 0 {
		n = len(out)
	}
	ss.dirty, ss.dirtyArgs = n, len(args)
	kind := uint32(respOK)
	if rc != 0 {
		kind = respCode
	}
	ss.respond(kind, rc, uint64(n), 0, 0)
}

func (ss *slotServer) callV2(mod *callpath.Module, id uint32, args, out []byte) {
	cell := ss.v.u64(sOutLen)
	cell.Store(0)
	rc := mod.CallV2(&ss.frame, id, args, unsafe.Pointer(&out[0]), uintptr(len(out)), unsafe.Pointer(cell))
	if !ss.canaryIntact() {
		ss.respond(respOverrun, rc, 0, uint64(len(out)), 0)
		return
	}
	n := cell.Load()
	ss.dirty = int(min(n, uint64(len(out))))
	switch {
	case rc == 0:
		if n > uint64(len(out)) {
			ss.respond(respLiar, 0, n, uint64(len(out)), 0)
			return
		}
		ss.respond(respOK, 0, n, 0, 0)
		return
	case rc == abi.CodeOutputTooSmall && n > uint64(len(out)):
		ss.callV2Large(mod, id, args, n)
		return
	case rc == abi.CodeHandedOver && mod.HandsOver():
		ss.takeOutput(mod, unsafe.Pointer(&out[0]), n)
		return
	}
	ss.respond(respCode, rc, min(n, uint64(len(out))), 0, 0)
}

// takeOutput answers with a result the module handed over (a descriptor of
// n bytes at out), copied before the module gets its buffer back; a result
// above the host's limit is released unread.
func (ss *slotServer) takeOutput(mod *callpath.Module, out unsafe.Pointer, n uint64) {
	h, ok := callpath.ReadHandedOutput(out, uintptr(n))
	if !ok {
		// Reported like a lying out_len: h.Len bytes in a 0-byte buffer.
		ss.respond(respLiar, 0, uint64(h.Len), 0, 0)
		return
	}
	defer mod.ReleaseOutput(&ss.frame, h)
	if uint64(h.Len) > ss.sv.h.maxOutput {
		ss.respond(respTooLarge, 0, uint64(h.Len), ss.sv.h.maxOutput, 0)
		return
	}
	ss.payload(respOK, 0, bytes.Clone(h.Bytes()), 0)
}

// callV2Large repeats a call whose output did not fit, once, into a
// buffer of the size it asked for, and stages the result for opFetch.
func (ss *slotServer) callV2Large(mod *callpath.Module, id uint32, args []byte, need uint64) {
	if need > ss.sv.h.maxOutput {
		ss.respond(respTooLarge, 0, need, ss.sv.h.maxOutput, 0)
		return
	}
	buf := make([]byte, need+heapGuard)
	big := buf[:need:need]
	ss.armGuard(buf[need:])
	cell := ss.v.u64(sOutLen)
	cell.Store(0)
	rc := mod.CallV2(&ss.frame, id, args, unsafe.Pointer(&big[0]), uintptr(need), unsafe.Pointer(cell))
	n := cell.Load()
	if !ss.guardIntact(buf[need:]) {
		ss.respond(respOverrun, rc, 0, need, 0)
		return
	}
	if rc == abi.CodeHandedOver && mod.HandsOver() {
		ss.takeOutput(mod, unsafe.Pointer(&big[0]), n)
		return
	}
	if rc == 0 {
		if n > need {
			ss.respond(respLiar, 0, n, need, 0)
			return
		}
		ss.payload(respOK, 0, big[:n], 0)
		return
	}
	var msg []byte
	if rc != abi.CodeOutputTooSmall {
		msg = big[:min(n, need)]
	}
	ss.payload(respCode, rc, msg, 0)
}
