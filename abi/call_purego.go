//go:build darwin || freebsd || linux || netbsd || windows

package abi

import (
	"unsafe"

	"github.com/ebitengine/purego"
)

// The pointer conversions happen inside the SyscallN call expressions so
// that its go:uintptrescapes annotation keeps the memory alive and in place.

func callRaw(fn uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn)
	return r
}

func callBytes(fn uintptr, b []byte) uintptr {
	r, _, _ := purego.SyscallN(fn, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return r
}

func call4(fn, a1 uintptr, p2 unsafe.Pointer, a3 uintptr, p4 unsafe.Pointer) uintptr {
	r, _, _ := purego.SyscallN(fn, a1, uintptr(p2), a3, uintptr(p4))
	return r
}

func call6(fn, a1 uintptr, p2 unsafe.Pointer, a3 uintptr, p4 unsafe.Pointer, a5 uintptr, p6 unsafe.Pointer) uintptr {
	r, _, _ := purego.SyscallN(fn, a1, uintptr(p2), a3, uintptr(p4), a5, uintptr(p6))
	return r
}
