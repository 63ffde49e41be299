//go:build linux

package isolate

import "github.com/memlink/memlink-go/internal/hostcall"

// shimTLSOffset is the offset from TPIDR_EL0 of the runtime's thread-local
// g, read by the entries (hostcall_shim_arm64.s).
var shimTLSOffset uintptr //nolint:unused // written here, read by the assembly

// tlsWord returns the word at offset off from TPIDR_EL0.
func tlsWord(off uintptr) uintptr

// shimUsable finds the runtime's thread-local g: with a C runtime the Go
// runtime stores g there on every switch, and for the executable's own
// thread-local block glibc's layout puts it right after the 16-byte thread
// control block. It checks that the word there is this goroutine's g
// (which R28 holds), and returns false when it is not.
func shimUsable() bool {
	const off = 16
	g := hostcall.G()
	if g == 0 || tlsWord(off) != g {
		return false
	}
	shimTLSOffset = off
	return true
}
