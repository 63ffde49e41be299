package isolate

import (
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux both sides sleep on the slot's state word itself with futex(2).
// The operations are the shared (not FUTEX_PRIVATE) ones, because the word
// lives in a mapping two processes share; the kernel keys such a futex by
// the page, not the address.

const (
	futexWait = 0
	futexWake = 1
)

func futexSleep(w *atomic.Uint32, old uint32, timeout time.Duration) {
	var ts unix.Timespec
	var tsp unsafe.Pointer
	if timeout > 0 {
		ts = unix.NsecToTimespec(int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	// EAGAIN (the word had already changed), EINTR and ETIMEDOUT all mean
	// "look again", which every caller does.
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWait, uintptr(old), uintptr(tsp), 0, 0)
}

func futexWakeAll(w *atomic.Uint32) {
	// Waking nobody is not an error worth reporting; EFAULT cannot
	// happen on a mapped word.
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, uintptr(1<<31-1), 0, 0, 0)
}

// hostBell is the host's side of the doorbells.
type hostBell struct{}

func newHostBell(slots int) (*hostBell, error) { return &hostBell{}, nil }

// childFiles returns the descriptors the worker inherits for its side of
// the doorbells, in order, after the region and the lifeline.
func (b *hostBell) childFiles() []*os.File { return nil }

// started releases what only the child needed.
func (b *hostBell) started() {}

func (b *hostBell) sleep(i int, w *atomic.Uint32, old uint32, timeout time.Duration) {
	futexSleep(w, old, timeout)
}

// wakeWorker wakes the worker sleeping on slot i.
func (b *hostBell) wakeWorker(i int, w *atomic.Uint32) { futexWakeAll(w) }

// wakeHost wakes a host goroutine sleeping on slot i (used when the host
// itself gives up on a call: its context ended, or the worker died).
func (b *hostBell) wakeHost(i int, w *atomic.Uint32) { futexWakeAll(w) }

func (b *hostBell) close() {}

// workerBell is the worker's side of the doorbells.
type workerBell struct{}

func newWorkerBell(pipeBase, slots int) (*workerBell, error) { return &workerBell{}, nil }

func (b *workerBell) sleep(i int, w *atomic.Uint32, old uint32) { futexSleep(w, old, 0) }

func (b *workerBell) wakeHost(i int, w *atomic.Uint32) { futexWakeAll(w) }
