package isolate

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows the runtime's monotonic clock is the interrupt time, which
// moves once per timer tick (0.5 to 15.6 ms; under Wine about 16 ms): a
// spin of 50 µs timed by it would last until the next tick, with both
// sides of a call spinning for milliseconds. Spins are timed with
// QueryPerformanceCounter instead.
var (
	qpc     = windows.NewLazySystemDLL("kernel32.dll").NewProc("QueryPerformanceCounter")
	qpcFreq = func() int64 {
		p := windows.NewLazySystemDLL("kernel32.dll").NewProc("QueryPerformanceFrequency")
		var f int64
		if p.Find() != nil || qpc.Find() != nil {
			return 0
		}
		if r, _, _ := syscall.SyscallN(p.Addr(), uintptr(unsafe.Pointer(&f))); r == 0 {
			return 0
		}
		return f
	}()
)

var spinBase = time.Now()

// spinClock returns monotonic nanoseconds from an arbitrary origin, for
// timing spins. Without a counter (never since Windows XP) it falls back
// to the runtime's clock.
func spinClock() int64 {
	if qpcFreq <= 0 {
		return int64(time.Since(spinBase))
	}
	var c int64
	_, _, _ = syscall.SyscallN(qpc.Addr(), uintptr(unsafe.Pointer(&c)))
	return c/qpcFreq*1e9 + c%qpcFreq*1e9/qpcFreq
}
