package hotreload

import (
	"log/slog"
	"path/filepath"

	"context"
	"fmt"
	"github.com/memlink/memlink-go/internal/filewatch"
	"sync"
	"time"
)

// Reloader is what Watch drives: *memlink.Runtime implements it for its
// Handle type. (This package cannot name memlink's types, since memlink
// imports it; the type parameter carries the handle type across.)
type Reloader[H any] interface {
	ReloadFile(h H, path string, cfg Config) (Report, error)
}

// WatchConfig configures Watch. Its zero value watches with the defaults
// given on each field.
type WatchConfig struct {
	// Interval is how often the file is checked when the operating system
	// gives no change notification (everywhere but Linux, where inotify
	// wakes the watcher at once and Interval is only a safety net).
	// Default 250ms.
	Interval time.Duration
	// Debounce is how long a changed file must stay unchanged before it is
	// reloaded, so that a compiler or copy writing it in several steps is
	// not caught half way. Default 100ms.
	Debounce time.Duration
	// Settle is how long a changed file that has stopped changing but is
	// not yet a valid shared library (a writer that paused) is pending
	// before it is reloaded anyway and reported as a failure. Default: ten
	// times Debounce, at least one second.
	Settle time.Duration
	// Reload is the configuration of every reload. Default: stateless with
	// the default drain timeout.
	Reload Config
	// Logger receives a warning for every event dropped because nobody
	// read the Events channel. Default slog.Default().
	Logger *slog.Logger
}

func (c WatchConfig) interval() time.Duration {
	if c.Interval <= 0 {
		return 250 * time.Millisecond
	}
	return c.Interval
}

func (c WatchConfig) debounce() time.Duration {
	if c.Debounce <= 0 {
		return 100 * time.Millisecond
	}
	return c.Debounce
}

func (c WatchConfig) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Event reports one reload attempt made by a watcher.
type Event struct {
	// Path is the watched file.
	Path string
	// Time is when the reload finished.
	Time time.Time
	// Report is the reload's report. After a failed reload it describes the
	// version that keeps serving.
	Report Report
	// Err is the reload's error; nil when the new version is serving.
	Err error
}

// Watcher watches one module file and reloads it when it changes. Close
// it, or cancel the context given to Watch, to stop it.
type Watcher struct {
	path   string
	out    *filewatch.Outbox[Event]
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// eventBuffer is how many events wait on the channel before new ones are
// dropped (and counted by Dropped).
const eventBuffer = 16

// Watch starts watching path and reloads h from it, through r, whenever
// the file changes: rewritten in place (also with its size and
// modification time restored, as cp -p does), replaced by a rename,
// re-created, switched to another target when path is a symbolic link, or
// touched. A change is reloaded once, when the file has stayed the same for
// cfg.Debounce and is a complete shared library for this platform. A file
// that has stopped changing but is not yet valid is pending, not a
// failure; only when it stays invalid for cfg.Settle is it reloaded anyway,
// so that the failure (and its rolled-back reload) is reported once. A
// broken new file is reported as an Event with Err set, the old version
// keeps serving, and the watcher waits for the next change. A file that
// disappears is not a change: the loaded version keeps serving.
//
// The file must exist when Watch is called. Most programs call
// memlink.Runtime.Watch, which is this function for a runtime's handle.
func Watch[H any](ctx context.Context, r Reloader[H], h H, path string, cfg WatchConfig) (*Watcher, error) {
	sig, err := filewatch.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("hotreload: watch %s: %w", path, err)
	}
	n := filewatch.NewNotifier(filepath.Dir(path))
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{
		path:   path,
		out:    filewatch.NewOutbox[Event](eventBuffer, cfg.logger(), path),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	tr := filewatch.Tracker{Debounce: cfg.debounce(), Settle: filewatch.SettleFor(cfg.Settle, cfg.debounce())}
	tr.Start(sig)
	go w.run(ctx, n, &tr, cfg, func() (Report, error) { return r.ReloadFile(h, path, cfg.Reload) })
	return w, nil
}

// Events returns the channel on which the watcher reports reload
// attempts, its only way of reporting them. It is closed when the watcher
// stops. A watcher never waits for its reader: when nobody reads, events
// beyond a buffer of 16 are dropped, counted by Dropped and logged.
func (w *Watcher) Events() <-chan Event { return w.out.C() }

// Dropped counts the events that found the Events channel full.
func (w *Watcher) Dropped() uint64 { return w.out.Dropped() }

// Close stops the watcher and waits for its goroutine to end. A reload in
// progress completes first. Close is idempotent and always returns nil.
func (w *Watcher) Close() error {
	w.once.Do(w.cancel)
	<-w.done
	return nil
}

func (w *Watcher) run(ctx context.Context, n filewatch.Notifier, tr *filewatch.Tracker, cfg WatchConfig, reload func() (Report, error)) {
	defer close(w.done)
	defer w.out.Close()
	defer n.Close()
	check := func() error { return filewatch.CheckModule(w.path) }
	for {
		wait := cfg.interval()
		if next := tr.Next(); !next.IsZero() {
			wait = max(min(wait, time.Until(next)), time.Millisecond)
		}
		if !n.Wait(ctx, wait) {
			return
		}
		sig, _ := filewatch.Stat(w.path) // missing or not regular: the zero Sig
		switch act, _ := tr.Observe(time.Now(), sig, check); act {
		case filewatch.Ready, filewatch.Bad:
			rep, err := reload()
			w.out.Send(Event{Path: w.path, Time: time.Now(), Report: rep, Err: err})
		}
	}
}
