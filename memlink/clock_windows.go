package memlink

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows the runtime's monotonic clock is the interrupt time, which
// moves once per timer tick (0.5 to 15.6 ms): every sampled call of a fast
// module would read zero. nanotime reads QueryPerformanceCounter instead,
// a clock of 100 ns or better, at the cost of a call into kernel32 on the
// sampled calls only.
var (
	qpcCounter = windows.NewLazySystemDLL("kernel32.dll").NewProc("QueryPerformanceCounter")
	qpcFreq    = queryPerformanceFrequency()
)

func queryPerformanceFrequency() int64 {
	p := windows.NewLazySystemDLL("kernel32.dll").NewProc("QueryPerformanceFrequency")
	if p.Find() != nil || qpcCounter.Find() != nil {
		return 0
	}
	var f int64
	if r, _, _ := syscall.SyscallN(p.Addr(), uintptr(unsafe.Pointer(&f))); r == 0 {
		return 0
	}
	return f
}

// nanotime returns a monotonic time in nanoseconds from an arbitrary
// origin, for measuring durations.
func nanotime() int64 {
	if qpcFreq <= 0 {
		return 0 // no counter: durations read zero, as with the coarse clock
	}
	var c int64
	// Cannot fail since Windows XP; if it did, c stays 0 and the
	// duration reads zero, as with no counter.
	_, _, _ = syscall.SyscallN(qpcCounter.Addr(), uintptr(unsafe.Pointer(&c)))
	// c*1e9 would overflow after a quarter of an hour at 10 MHz.
	return c/qpcFreq*1e9 + c%qpcFreq*1e9/qpcFreq
}
