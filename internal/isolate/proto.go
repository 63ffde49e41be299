package isolate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// The shared region is one mapping both processes see at the same bytes:
//
//	page 0          header: magic, protocol version, geometry, limits
//	slot i          at slotBase + i*stride:
//	  [0, 64)       control line: state word, two sleeping flags
//	  [64, 128)     request written by the host
//	  [128, 192)    response written by the worker
//	  [192, 256)    out_len cell for memlink_call_v2
//	  [256, ...)    args area (argCap bytes)
//	  then          host-call area (argCap bytes): a host call's args, then
//	                its answer (hostcall.go)
//	  then          output area (outCap bytes, 16 canary bytes)
//	  then          padding to a page boundary, then a guard page that
//	                the worker maps PROT_NONE
//
// Every word the two sides exchange is read and written with sync/atomic,
// and the host bounds-checks everything it reads back: the worker runs
// untrusted native code that can scribble on its side of the mapping.

const (
	magic         = 0x314f53494b4c4d4d // "MMLKISO1", little-endian
	protoVersion  = 3
	headerSize    = 4096
	ctrlSize      = 256
	canarySize    = 16
	maxPathLen    = 4000
	defaultArgCap = 64 << 10
)

// Descriptors a Unix worker inherits, through exec.Cmd.ExtraFiles.
const (
	fdRegion   = 3 // the shared region
	fdLifeline = 4 // read end of a pipe only the host writes: EOF = host gone
	fdModule   = 5 // the module file, when the host passes one
)

// Header offsets.
const (
	hMagic     = 0
	hVersion   = 8
	hSlots     = 12
	hArgCap    = 16
	hOutCap    = 24
	hStride    = 32
	hSlotBase  = 40
	hMaxOutput = 48
	hMemLimit  = 56
	hSpin      = 64
	hCanary    = 72 // canarySize bytes
	hPageSize  = 88
	hPipeBase  = 96  // first fd of the pipe doorbells (0: futex)
	hExeFD     = 100 // the descriptor the worker was executed from (0: none)
	hLogsLost  = 104 // uint64: log records the worker could not deliver
	hSigsys    = 112 // uint64: the system call a sandboxed worker died of (sandbox.go)
	hFault     = 120 // uint32: the last fatal exception the worker saw (Windows; 0: none)
	hFaultAddr = 128 // uint64: where it was raised (hFault+8, as faults_windows_amd64.s writes it)
	hReady     = 136 // uint32: 1 once the worker is set up (Windows, under a memory limit)
)

// Slot control and message offsets, relative to the slot's base.
const (
	sState        = 0  // uint32: seq<<3 | st*
	sParentAsleep = 4  // uint32: 1 while the host sleeps on this slot
	sWorkerAsleep = 8  // uint32: 1 while the worker sleeps on this slot
	sHostCPU      = 12 // uint32: 1 + the CPU the host last polled on (0: unknown)
	sWorkerCPU    = 16 // uint32: 1 + the CPU the worker last ran on (0: unknown)
	sReqOp        = 64 // uint32
	sReqMethod    = 68 // uint32
	sReqLen       = 72 // uint64: bytes in the args area, or staged total
	sReqOffset    = 80 // uint64: offset for opPut / opFetch
	sReqTotal     = 88 // uint64: total for opPut
	sReqFlags     = 96 // uint32
	sRespKind     = 128
	sRespCode     = 132 // int32
	sRespLen      = 136 // uint64
	sRespAux      = 144 // uint64
	sRespNanos    = 152 // uint64: how long the worker took
	sRespFlags    = 160 // uint32
	sOutLen       = 192 // uint64 cell handed to memlink_call_v2
	sHostKind     = 200 // uint32: hostKindCall or hostKindLog (hostcall.go)
	sHostFn       = 204 // uint32: host function id, or log level
	sHostLen      = 208 // uint64: args length, then the answer's length
	sHostCap      = 216 // uint64: the module's out_cap
	sHostCode     = 224 // int32: the answer's code
	sArgs         = ctrlSize
)

// Slot states (the low three bits of the state word). The high bits are a
// sequence number the host bumps for every request, so that a late
// interruption (a context cancelled after its call finished) can never hit
// the next call on the same slot.
const (
	stIdle          = 0 // nothing posted yet
	stReq           = 1 // the host posted a request
	stBusy          = 2 // the worker took it and is running it
	stDone          = 3 // the worker posted the response
	stDroppedQueued = 4 // given up before the worker took it: never ran
	stDroppedBusy   = 5 // given up while the worker ran it
	stHost          = 6 // the worker, running it, posted a host call
	stHostDone      = 7 // the host answered the host call; the worker runs on
	stMask          = 7
)

// Operations.
const (
	opInit     = 1 // args: path length (4 bytes LE), path, config
	opCall     = 2
	opPut      = 3 // append a chunk to the staged args
	opFetch    = 4 // copy a chunk of the staged output into the args area
	opGetState = 5
	opSetState = 6
	opShutdown = 7
)

// Request flags.
const (
	reqStaged = 1 // the args are the staged bytes, not the args area
)

// Response kinds.
const (
	respOK        = 0 // payload is the result
	respCode      = 1 // non-zero code; payload is the message
	respOverrun   = 2 // ABI 1 wrote past the output buffer
	respLiar      = 3 // ABI 2 reported Len > Aux bytes
	respTooLarge  = 4 // ABI 2 asked for Len bytes, over the limit
	respLoadError = 5 // opInit failed: Code is a loadErr*, payload the message
	respBadOp     = 6 // the worker did not understand the request
)

// Response flags.
const (
	respStaged = 1 // payload is staged in the worker: fetch it with opFetch
	respV2     = 2 // opInit: ABI version 2
	respState  = 4 // opInit: module exports the state functions
	respHost   = 8 // opInit: module bound the host table
)

// Load error classes in an opInit response's Code: LoadFailure's.
const (
	loadErrInvalid = LoadInvalid
	loadErrSymbol  = LoadSymbol
	loadErrVersion = LoadVersion
	loadErrInit    = LoadInit
)

// geometry is the layout of a region.
type geometry struct {
	slots    int
	argCap   int
	outCap   int
	stride   int
	pageSize int
}

func newGeometry(slots, argCap, outCap, pageSize int) geometry {
	end := sArgs + argCap + outCap + canarySize + argCap
	end = (end + pageSize - 1) &^ (pageSize - 1)
	return geometry{slots: slots, argCap: argCap, outCap: outCap, stride: end + pageSize, pageSize: pageSize}
}

func (g geometry) size() int { return headerSize + g.slots*g.stride }

func (g geometry) slotBase(i int) int { return headerSize + i*g.stride }

// guard returns the offset and length of slot i's guard page.
func (g geometry) guard(i int) (int, int) {
	return g.slotBase(i) + g.stride - g.pageSize, g.pageSize
}

// slotLen is the length of a slot's view: control, args, host-call area,
// output and canary.
func (g geometry) slotLen() int { return sArgs + g.argCap + g.outCap + canarySize + g.argCap }

// outOffset is the offset of the output area within a slot.
func (g geometry) outOffset() int { return sArgs + 2*g.argCap }

// slotView gives typed access to one slot of a mapped region.
type slotView struct {
	base []byte // the slot's bytes, geometry.slotLen long
	g    *geometry
}

func (s slotView) u32(off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&s.base[off]))
}

func (s slotView) u64(off int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&s.base[off]))
}

func (s slotView) state() *atomic.Uint32 { return s.u32(sState) }

func (s slotView) args() []byte { return s.base[sArgs : sArgs+s.g.argCap : sArgs+s.g.argCap] }

func (s slotView) out() []byte {
	o := s.g.outOffset()
	return s.base[o : o+s.g.outCap : o+s.g.outCap]
}

func (s slotView) canary() []byte {
	o := s.g.outOffset() + s.g.outCap
	return s.base[o : o+canarySize : o+canarySize]
}

// hostArea is the slot's host-call area, between the args and the output
// (so that an output overrun still runs into the guard page).
func (s slotView) hostArea() []byte {
	o := sArgs + s.g.argCap
	return s.base[o : o+s.g.argCap : o+s.g.argCap]
}

// header encodes and decodes page 0.
type header struct {
	geometry
	maxOutput uint64
	memLimit  uint64
	spin      uint64
	canary    [canarySize]byte
	pipeBase  uint32
	exeFD     uint32
}

func (h *header) put(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[hMagic:], magic)
	le.PutUint32(b[hVersion:], protoVersion)
	le.PutUint32(b[hSlots:], uint32(h.slots))
	le.PutUint64(b[hArgCap:], uint64(h.argCap))
	le.PutUint64(b[hOutCap:], uint64(h.outCap))
	le.PutUint64(b[hStride:], uint64(h.stride))
	le.PutUint64(b[hSlotBase:], headerSize)
	le.PutUint64(b[hMaxOutput:], h.maxOutput)
	le.PutUint64(b[hMemLimit:], h.memLimit)
	le.PutUint64(b[hSpin:], h.spin)
	copy(b[hCanary:hCanary+canarySize], h.canary[:])
	le.PutUint64(b[hPageSize:], uint64(h.pageSize))
	le.PutUint32(b[hPipeBase:], h.pipeBase)
	le.PutUint32(b[hExeFD:], h.exeFD)
}

var errBadHeader = errors.New("isolate: bad shared region header")

// parseHeader reads page 0 of a region of size bytes, as the worker does.
func parseHeader(b []byte) (header, error) {
	le := binary.LittleEndian
	var h header
	if len(b) < headerSize || le.Uint64(b[hMagic:]) != magic {
		return h, errBadHeader
	}
	if v := le.Uint32(b[hVersion:]); v != protoVersion {
		return h, fmt.Errorf("%w: protocol version %d, want %d", errBadHeader, v, protoVersion)
	}
	h.slots = int(le.Uint32(b[hSlots:]))
	h.argCap = int(le.Uint64(b[hArgCap:]))
	h.outCap = int(le.Uint64(b[hOutCap:]))
	h.stride = int(le.Uint64(b[hStride:]))
	h.pageSize = int(le.Uint64(b[hPageSize:]))
	h.maxOutput = le.Uint64(b[hMaxOutput:])
	h.memLimit = le.Uint64(b[hMemLimit:])
	h.spin = le.Uint64(b[hSpin:])
	copy(h.canary[:], b[hCanary:])
	h.pipeBase = le.Uint32(b[hPipeBase:])
	h.exeFD = le.Uint32(b[hExeFD:])
	want := newGeometry(h.slots, h.argCap, h.outCap, h.pageSize)
	if h.slots <= 0 || h.argCap <= 0 || h.outCap <= 0 || h.pageSize <= 0 || want != h.geometry ||
		le.Uint64(b[hSlotBase:]) != headerSize || h.size() > len(b) {
		return h, fmt.Errorf("%w: inconsistent geometry", errBadHeader)
	}
	return h, nil
}
