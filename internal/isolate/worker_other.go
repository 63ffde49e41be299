//go:build !unix

package isolate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
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
	return fmt.Errorf("isolation is not supported on %s yet: %w", runtime.GOOS, errors.ErrUnsupported)
}

// worker is never created here; its fields and methods keep the portable
// client compiling.
type worker struct {
	life life
}

func startWorker(c *Client) (*worker, error) { return nil, errUnsupported() }

func regionBytes(cfg *Config) int { return 0 }

// defaultArgCap matches the Unix default, for Config's documentation.
const defaultArgCap = 64 << 10

func (w *worker) load(ctx context.Context) (Info, error) { return Info{}, errUnsupported() }

func (w *worker) call(ctx context.Context, dst []byte, id uint32, args []byte) ([]byte, Result, error) {
	return dst, Result{}, errUnsupported()
}

func (w *worker) getState(ctx context.Context, limit uint64) ([]byte, Result, error) {
	return nil, Result{}, errUnsupported()
}

func (w *worker) setState(ctx context.Context, state []byte) (Result, error) {
	return Result{}, errUnsupported()
}

func (w *worker) shutdown(timeout time.Duration) (int32, error) { return 0, nil }

func (w *worker) kill(r Reason, detail string) {}
