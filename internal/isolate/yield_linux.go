package isolate

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// yield gives the processor to another goroutine of this process while
// spinning (runtime.Gosched), and with osToo also to another thread on
// this CPU (sched_yield).
//
// The second matters, but only now and then: the thread a spinner waits
// for may have been woken on the spinner's own CPU, where it cannot run
// until the spinner gives way (without it, a loaded machine fell into a
// spiral of 70 to 100 µs per call, each side sleeping while the other
// ran); but each sched_yield on a CPU with other work hands that work a
// whole time slice, so yielding on every round of polls cost 15 to 30 µs
// per call on a loaded machine. Spinners pass osToo once per
// osYieldEvery.
func yield(osToo bool) {
	if osToo {
		_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) // cannot fail
	}
	runtime.Gosched()
}

// yieldLocked is yield for a goroutine locked to its thread, such as one
// running inside a C callback: runtime.Gosched there would hand the
// thread's P to another thread and wait to get it back (a futex wake-up
// and a sleep each way, every round of polls: an isolated host call cost
// about 30 µs that way), so it yields only the CPU, and only with osToo.
func yieldLocked(osToo bool) {
	if osToo {
		_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) // cannot fail
	}
}
