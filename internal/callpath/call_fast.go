//go:build (linux || darwin) && (amd64 || arm64)

package callpath

import "unsafe"

// The fast path enters C the way cgo (and purego) do, through
// runtime.cgocall, which switches to the system stack and tells the
// scheduler the goroutine is outside Go. What it runs is a trampoline of a
// few instructions that loads six integer registers from a Frame, calls the
// function and stores the result: no argument copying, no pool, no float
// registers, no errno. See docs/design.md.

//go:linkname runtime_cgocall runtime.cgocall
func runtime_cgocall(fn uintptr, arg unsafe.Pointer) int32

// trampolineABI0 holds the address of the assembly trampoline.
var trampolineABI0 uintptr

func invokeFast(f *Frame) {
	runtime_cgocall(trampolineABI0, unsafe.Pointer(f))
}
