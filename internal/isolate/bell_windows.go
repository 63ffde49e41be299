package isolate

import (
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/windows"
)

// On Windows each slot has two auto-reset events: one the host sets to
// wake the worker, one the worker sets to wake the host. As with the
// pipes elsewhere, an event is only set when the other side has said it
// is asleep (its flag in the slot's control line), so a busy pair of
// processes makes no system call; an event left set by a wake-up that
// came after its sleeper had looked again only causes a spurious wake-up,
// which every sleeper tolerates.

// hostBell is the host's side of the doorbells.
type hostBell struct {
	toWorker, toHost []windows.Handle
}

func newHostBell(slots int) (*hostBell, error) {
	b := &hostBell{}
	for range slots {
		for _, list := range []*[]windows.Handle{&b.toWorker, &b.toHost} {
			h, err := windows.CreateEvent(nil, 0, 0, nil)
			if err != nil {
				b.close()
				return nil, fmt.Errorf("isolate: doorbell event: %w", err)
			}
			*list = append(*list, h)
		}
	}
	return b, nil
}

// childHandles returns the events the worker gets, in order: every
// slot's wake-the-worker event, then every slot's wake-the-host event.
func (b *hostBell) childHandles() []windows.Handle {
	return append(append([]windows.Handle(nil), b.toWorker...), b.toHost...)
}

func (b *hostBell) sleep(i int, w *atomic.Uint32, old uint32, timeout time.Duration) {
	ms := uint32(windows.INFINITE)
	if timeout > 0 {
		ms = uint32(min((timeout+time.Millisecond-1)/time.Millisecond, 1<<31))
	}
	// A failed wait only ends this sleep early: the caller looks at the
	// state word again.
	_, _ = windows.WaitForSingleObject(b.toHost[i], ms)
}

// setEvent rings one doorbell; an event already set holds a wake-up, and
// a failure on a valid handle cannot happen.
func setEvent(h windows.Handle) { _ = windows.SetEvent(h) }

func (b *hostBell) wakeWorker(i int, w *atomic.Uint32) { setEvent(b.toWorker[i]) }

func (b *hostBell) wakeHost(i int, w *atomic.Uint32) { setEvent(b.toHost[i]) }

func (b *hostBell) close() {
	for _, hs := range [][]windows.Handle{b.toWorker, b.toHost} {
		for _, h := range hs {
			_ = windows.CloseHandle(h)
		}
	}
	b.toWorker, b.toHost = nil, nil
}

// workerBell is the worker's side of the doorbells: the inherited events.
type workerBell struct {
	toWorker, toHost []windows.Handle
}

func newWorkerBell(events []windows.Handle, slots int) (*workerBell, error) {
	if len(events) != 2*slots {
		return nil, fmt.Errorf("isolate: %d doorbell events were passed for %d slots", len(events), slots)
	}
	return &workerBell{toWorker: events[:slots], toHost: events[slots:]}, nil
}

func (b *workerBell) sleep(i int, w *atomic.Uint32, old uint32) {
	_, _ = windows.WaitForSingleObject(b.toWorker[i], windows.INFINITE)
}

func (b *workerBell) wakeHost(i int, w *atomic.Uint32) { setEvent(b.toHost[i]) }
