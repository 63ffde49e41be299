package callpath

import "unsafe"

// The hot path's variants of SetCall, SetCallV2 and Invoke: the same
// frame, without the keep-alive pointers.
//
// SetCall records args and out in the frame's keep-alive fields, which
// does two things: it makes args escape to the heap (a goroutine's stack
// can move while C runs: a callback from C into Go runs on that stack and
// may grow it), and it keeps both reachable until Invoke clears the
// fields. Both stores and the clearing have write barriers. A caller that
// owns out (memory outside the Go heap, or kept reachable by other means)
// and keeps args reachable itself needs neither: the variants below make
// args escape without storing it (escapes, which compiles to no code) and
// leave reachability to the caller.

// SetCallUnkept fills f for the call [Module.Call] makes, like
// [Module.SetCall], but without keep-alive pointers; make the call with
// [Frame.InvokeUnkept](4). args escapes to the heap as with SetCall. The
// caller keeps args reachable until the call has returned (with
// runtime.KeepAlive after it), and out must not be Go memory that nothing
// else keeps reachable.
func (m *Module) SetCallUnkept(f *Frame, id uint32, args []byte, out unsafe.Pointer) {
	p := unsafe.Pointer(unsafe.SliceData(args))
	escapes(p)
	f.fn = m.call
	f.a[0], f.a[1], f.a[2], f.a[3] = uintptr(id), uintptr(p), uintptr(len(args)), uintptr(out)
}

// SetCallV2Unkept is [Module.SetCallV2] without keep-alive pointers, on the
// terms of SetCallUnkept; make the call with [Frame.InvokeUnkept](6).
func (m *Module) SetCallV2Unkept(f *Frame, id uint32, args []byte, out unsafe.Pointer, outCap uintptr, outLen unsafe.Pointer) {
	m.SetCallUnkept(f, id, args, out)
	f.fn = m.callV2
	f.a[4], f.a[5] = outCap, uintptr(outLen)
}

// InvokeUnkept makes the call f was filled for by SetCallUnkept or
// SetCallV2Unkept with its first n arguments and returns the result: Invoke
// without clearing keep-alive fields that were never set.
func (f *Frame) InvokeUnkept(n int) int32 {
	invoke(f, n)
	return int32(f.ret)
}

// escapeSink is only ever written by code that never runs (see escapes).
var escapeSink unsafe.Pointer //nolint:unused // written only, by code that never runs: the store is what makes p escape

// never reports false; escapes calls it so that the store to escapeSink is
// not ruled out before escape analysis, which sees the store and makes p
// escape. Once never is inlined, the compiler drops the branch: no code.
func never() bool { return false }

// escapes makes p escape to the heap at no run-time cost: whatever p points
// to is allocated on the heap, never on a goroutine stack, so it cannot
// move while C reads it. TestUnkeptArgsEscape checks that the compiler
// still treats it so.
func escapes(p unsafe.Pointer) {
	if never() {
		escapeSink = p
	}
}
