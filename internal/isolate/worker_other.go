//go:build !unix && !windows

package isolate

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// ServeWorker exits at once: no host on this platform starts workers.
func ServeWorker() {
	fmt.Fprintf(os.Stderr, "memlink isolation worker: %v\n", errUnsupported())
	os.Exit(70)
}

// MemoryLimitEnforced reports whether Config.MemoryLimit has an effect on
// this platform.
const MemoryLimitEnforced = false

// errUnsupported is the error of Start here. It matches
// errors.ErrUnsupported.
func errUnsupported() error {
	return fmt.Errorf("isolation is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// No worker is ever started here; what follows keeps the portable code
// compiling.

type workerSys struct{}

func (workerSys) release() {}

func startWorker(c *Client) (*worker, error) { return nil, errUnsupported() }

func (w *worker) wait() (Exit, bool) { return Exit{}, false }

func unmap(b []byte) error { return errUnsupported() }

func protectNone(b []byte) error { return errUnsupported() }

func limitMemory(limit uint64, slots int) error { return errUnsupported() }

func killDescendants() {}

type hostBell struct{}

func (b *hostBell) sleep(i int, w *atomic.Uint32, old uint32, timeout time.Duration) {}
func (b *hostBell) wakeWorker(i int, w *atomic.Uint32)                               {}
func (b *hostBell) wakeHost(i int, w *atomic.Uint32)                                 {}
func (b *hostBell) close()                                                           {}

type workerBell struct{}

func (b *workerBell) sleep(i int, w *atomic.Uint32, old uint32) {}
func (b *workerBell) wakeHost(i int, w *atomic.Uint32)          {}
