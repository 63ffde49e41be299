package callpath

import "unsafe"

// Frame is the argument block of one C call: the function, up to six
// integer arguments and the result. A caller that keeps one Frame per
// concurrent call site (package memlink keeps one per lane) makes calls
// without allocating. A Frame must not be used by two calls at once.
//
// The layout is read by the assembly trampolines: fn at offset 0, the
// arguments from 8, the result at 56.
type Frame struct {
	fn   uintptr
	a    [6]uintptr
	ret  uintptr
	keep [2]unsafe.Pointer // Go memory the C call reads or writes
}

// set fills the frame for a call of fn. Pointer arguments are recorded in
// keep, which makes the memory they point to escape to the heap (a stack
// could move while C runs on it) and keeps it reachable for the call.
func (f *Frame) set4(fn, a1 uintptr, p2 unsafe.Pointer, a3 uintptr, p4 unsafe.Pointer) {
	f.fn = fn
	f.keep[0], f.keep[1] = p2, p4
	f.a = [6]uintptr{a1, uintptr(p2), a3, uintptr(p4)}
}

func (f *Frame) result() int32 {
	f.keep = [2]unsafe.Pointer{}
	return int32(f.ret)
}
