//go:build unix && !linux

package isolate

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Without futex(2), each slot has two pipes: one the host writes to wake
// the worker, one the worker writes to wake the host. A byte is only ever
// written when the other side has said it is asleep (its flag in the
// slot's control line), so a busy pair of processes never touches the
// pipes; stale bytes only cause a spurious wake-up, which every sleeper
// tolerates by looking at the state word again.

// hostBell is the host's side of the doorbells.
type hostBell struct {
	toWorkerR, toWorkerW []*os.File // worker sleeps on R
	toHostR, toHostW     []*os.File // host sleeps on R
}

func newHostBell(slots int) (*hostBell, error) {
	b := &hostBell{}
	for range slots {
		wr, ww, err := os.Pipe()
		if err != nil {
			b.close()
			return nil, fmt.Errorf("isolate: doorbell pipe: %w", err)
		}
		hr, hw, err := os.Pipe()
		if err != nil {
			wr.Close()
			ww.Close()
			b.close()
			return nil, fmt.Errorf("isolate: doorbell pipe: %w", err)
		}
		b.toWorkerR, b.toWorkerW = append(b.toWorkerR, wr), append(b.toWorkerW, ww)
		b.toHostR, b.toHostW = append(b.toHostR, hr), append(b.toHostW, hw)
	}
	return b, nil
}

// childFiles returns the descriptors the worker inherits: every slot's
// read end of its own pipe, then every slot's write end of the host's.
func (b *hostBell) childFiles() []*os.File {
	return append(append([]*os.File(nil), b.toWorkerR...), b.toHostW...)
}

// started closes the worker's read ends, which only the child needs. The
// host keeps the write ends of its own pipes to wake itself.
func (b *hostBell) started() {
	for _, f := range b.toWorkerR {
		f.Close()
	}
	b.toWorkerR = nil
}

func (b *hostBell) sleep(i int, w *atomic.Uint32, old uint32, timeout time.Duration) {
	f := b.toHostR[i]
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	// A pipe that cannot take a deadline, or a read that fails, only
	// ends this sleep early: the caller looks at the state word again.
	_ = f.SetReadDeadline(deadline)
	var buf [64]byte
	_, _ = f.Read(buf[:])
}

// ring writes one byte. A full pipe already holds a wake-up, so a
// failure to write loses nothing.
func ring(f *os.File) { _, _ = f.Write([]byte{1}) }

func (b *hostBell) wakeWorker(i int, w *atomic.Uint32) { ring(b.toWorkerW[i]) }

func (b *hostBell) wakeHost(i int, w *atomic.Uint32) { ring(b.toHostW[i]) }

func (b *hostBell) close() {
	for _, fs := range [][]*os.File{b.toWorkerR, b.toWorkerW, b.toHostR, b.toHostW} {
		for _, f := range fs {
			f.Close()
		}
	}
}

// workerBell is the worker's side of the doorbells: raw descriptors, read
// and written with blocking system calls on the slot's own thread.
type workerBell struct {
	sleepFD, wakeFD []int
}

func newWorkerBell(pipeBase, slots int) (*workerBell, error) {
	if pipeBase <= 0 {
		return nil, errors.New("isolate: no doorbell pipes were passed")
	}
	b := &workerBell{}
	for i := range slots {
		b.sleepFD = append(b.sleepFD, pipeBase+i)
		b.wakeFD = append(b.wakeFD, pipeBase+slots+i)
	}
	return b, nil
}

func (b *workerBell) sleep(i int, w *atomic.Uint32, old uint32) {
	var buf [64]byte
	for {
		_, err := unix.Read(b.sleepFD[i], buf[:])
		if err != unix.EINTR {
			return
		}
	}
}

func (b *workerBell) wakeHost(i int, w *atomic.Uint32) {
	for {
		_, err := unix.Write(b.wakeFD[i], []byte{1})
		if err != unix.EINTR {
			return
		}
	}
}
