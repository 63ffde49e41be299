package memlink

import (
	"context"
	"log/slog"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/isolate"
)

// OutputMode says where an isolated worker's stdout and stderr go; see
// Isolation.Output.
type OutputMode int

const (
	// OutputLog turns each line the worker writes into a record of the
	// runtime's logger (WithLogger): info for stdout, warn for stderr,
	// with the attributes module, handle, generation and stream ("stdout"
	// or "stderr"). A line ends at "\n" or "\r\n" (what a Windows C
	// runtime writes in text mode), neither kept. The worker's stdout is a
	// pipe, which C's stdio buffers fully on every platform: a module whose
	// lines should arrive as it prints them calls fflush(stdout) or
	// setvbuf(stdout, NULL, _IOLBF, ...) (stderr is unbuffered). It is the
	// zero value.
	OutputLog OutputMode = iota
	// OutputInherit lets the worker write straight into this process's
	// stdout and stderr.
	OutputInherit
	// OutputDiscard throws the worker's output away.
	OutputDiscard
)

// isolate prepares the binding of a module about to start in a worker:
// the worker binds the module to a table of its own and posts host calls
// and records through the shared slot, and b serves them here.
func (b *hostBinding) isolate(cfg *isolate.Config, out OutputMode, lanes int) {
	if b == nil {
		return
	}
	b.recs = make([]atomicRec, lanes)
	cfg.Host = b
	cfg.Lost = b.workerLost
	cfg.Restarted = b.workerRestarted
	switch out {
	case OutputLog:
		cfg.Output = b.outputLine
	case OutputDiscard:
		cfg.Output = func(bool, []byte) {}
	}
}

// isolated records whether the module, in its first worker, bound the
// host. Unbound, b still serves the worker's output lines.
func (b *hostBinding) isolated(c *isolate.Client) {
	if b != nil && c.Info().HostBound {
		b.state.Store(bindingBound)
	}
}

// HostCall serves a host call posted by the worker (isolate.HostHandler).
func (b *hostBinding) HostCall(id uint32, args, out []byte, limit int) (int, int32) {
	if b.state.Load() == bindingRetired {
		return 0, abi.CodeUnknownMethod
	}
	f := b.funcs[id]
	if f == nil {
		b.counters.unknown[hostUnknown].Add(1)
		return 0, abi.CodeUnknownMethod
	}
	// The result must fit the slot's host-call area to travel at all.
	return b.serve(current(b), f, id, args, out, limit)
}

// HostLog delivers a record posted by the worker (isolate.HostHandler).
func (b *hostBinding) HostLog(level int32, msg []byte) {
	b.logRecord(current(b), slog.Level(level), string(msg), false)
}

// outputLine logs one line of the worker's output.
func (b *hostBinding) outputLine(stderr bool, line []byte) {
	level, stream := slog.LevelInfo, "stdout"
	if stderr {
		level, stream = slog.LevelWarn, "stderr"
	}
	defer func() { _ = recover() }() // a handler's panic must not end the reader
	b.rt.logger().LogAttrs(context.Background(), level, string(line),
		slog.String("module", b.module), b.handleAttr(), slog.Uint64("generation", b.gen),
		slog.String("stream", stream))
}
