package memlink

import (
	"context"
	"errors"
	"log/slog"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/isolate"
)

// The runtime's own events, logged to WithLogger's logger: never on the
// call path, only when something changed.

func loggerOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// handleLabel is h's String, or empty for no handle yet.
func handleLabel(h Handle) string {
	if h == 0 {
		return ""
	}
	return h.String()
}

// identify tells the module its handle and generation, for the records
// about it (the handle of a first load is known only once it is
// inserted: see Runtime.load).
func (b *moduleBase) identify(h Handle, gen uint64) {
	b.handle.Store(uint64(h))
	if gen != 0 {
		b.gen = gen
	}
}

// markCorrupted quarantines the module, logging it the first time.
func (b *moduleBase) markCorrupted(method, what string) {
	if b.corrupted.Swap(true) {
		return
	}
	loggerOr(b.logger).LogAttrs(context.Background(), slog.LevelError, "memlink: module quarantined: it corrupted its output; reload or unload it",
		slog.String("module", moduleName(b.file)), slog.String("handle", handleLabel(Handle(b.handle.Load()))), slog.Uint64("generation", b.gen),
		slog.String("method", method), slog.String("file", b.file), slog.String("reason", what))
}

// logReload logs the outcome of a reload of e.
func (rt *Runtime) logReload(e *entry, rep hotreload.Report, err error) {
	attrs := []slog.Attr{slog.String("module", e.name), slog.String("handle", e.h.String()), slog.Uint64("generation", rep.Generation),
		slog.String("result", string(rep.Result)), slog.Duration("duration", rep.Duration)}
	level, msg := slog.LevelInfo, "memlink: module reloaded"
	switch {
	case rep.Result == hotreload.ResultDrainTimeout || errors.Is(err, ErrDrainTimeout):
		level, msg = slog.LevelWarn, "memlink: module reloaded; the old version's calls did not drain in time"
	case err != nil || rep.Result == hotreload.ResultRolledBack:
		level, msg = slog.LevelWarn, "memlink: reload rolled back"
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	rt.logger().LogAttrs(context.Background(), level, msg, attrs...)
}

// workerLost logs an isolated module's worker that ended abnormally.
func (b *hostBinding) workerLost(ex isolate.Exit) {
	attrs := []slog.Attr{slog.String("module", b.module), b.handleAttr(), slog.Uint64("generation", b.gen),
		slog.String("reason", ex.Reason.String()), slog.Int("pid", ex.Pid)}
	if ex.Signal != "" {
		attrs = append(attrs, slog.String("signal", ex.Signal))
	} else {
		attrs = append(attrs, slog.Int("exit_status", ex.Status))
	}
	if ex.Detail != "" {
		attrs = append(attrs, slog.String("detail", ex.Detail))
	}
	b.rt.logger().LogAttrs(context.Background(), slog.LevelWarn, "memlink: isolated worker lost", attrs...)
}

// workerRestarted logs the worker that replaced a lost one.
func (b *hostBinding) workerRestarted(pid int) {
	b.rt.logger().LogAttrs(context.Background(), slog.LevelWarn, "memlink: isolated worker restarted",
		slog.String("module", b.module), b.handleAttr(), slog.Uint64("generation", b.gen), slog.Int("pid", pid))
}
