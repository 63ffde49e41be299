package callpath

import (
	"sync/atomic"
	"unsafe"
)

// Frame is the argument block of one C call: the function, up to six
// integer arguments and the result. A caller that keeps one Frame per
// concurrent call site (package memlink keeps one per lane) makes calls
// without allocating. A Frame must not be used by two calls at once.
//
// The layout is read by the assembly trampolines: fn at offset 0, the
// arguments from 8, the result at 56, then the return mark (see
// [Frame.MarkReturns]): its source at 64, the mark at 72 and the mask at
// 80.
type Frame struct {
	fn   uintptr
	a    [6]uintptr
	ret  uintptr
	src  *uint64 // copied to done when a call returns a final result; nil: no marks
	done uint64  // written by the trampoline only
	mask uint32  // a result r is final when r&mask == 0
	_    uint32
	keep [2]unsafe.Pointer // Go memory the C call reads or writes
}

// MarksReturns reports whether frames set with [Frame.MarkReturns] are
// marked on this platform: true where calls go through the assembly
// trampoline, which writes the mark on the thread that ran the C function,
// right after it returned and before the goroutine is back in Go. With
// purego no mark is ever written.
const MarksReturns = Name == "trampoline"

// MarkReturns makes f record which call has returned from C for the last
// time: each time the C function returns a result r with r&mask == 0, the
// trampoline copies the word at src into the frame's mark (see
// [Frame.Returned]), still on the system stack, before the goroutine has
// to wait for the scheduler to run Go code again. The caller makes src
// name the call in progress (package memlink uses its gate lane's
// sequence number, odd while the call runs), and picks mask so that only
// results after which the call makes no further C call through this frame
// count: 0 when every result is final, ^0 when only 0 is (an ABI-2 call
// retried with a larger buffer, or a result handed over and released,
// calls C again after a non-zero result).
//
// src must stay valid for as long as f is used. Call it before the frame's
// first call; it is not safe to call concurrently with a call on f.
func (f *Frame) MarkReturns(src *uint64, mask uint32) {
	f.src, f.mask = src, mask
}

// Returned returns the last word the trampoline copied from the mark's
// source: the call that word names has made its last C call through f.
// It may be read from any goroutine while f is in use.
func (f *Frame) Returned() uint64 {
	return atomic.LoadUint64(&f.done)
}

// Invoke makes the call f was filled for (by [Module.SetCall] or
// [Module.SetCallV2]) with its first n arguments and returns the result.
func (f *Frame) Invoke(n int) int32 {
	invoke(f, n)
	return f.result()
}

func (f *Frame) result() int32 {
	f.keep = [2]unsafe.Pointer{}
	return int32(f.ret)
}
