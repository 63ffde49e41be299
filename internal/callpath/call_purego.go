//go:build darwin || freebsd || linux || netbsd || windows

package callpath

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
