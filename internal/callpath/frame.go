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
