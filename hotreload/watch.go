package hotreload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
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
	// Reload is the configuration of every reload. Default: stateless with
	// the default drain timeout.
	Reload Config
	// OnEvent, if set, is called from the watcher's goroutine with every
	// event, before the event is offered on the Events channel. It must not
	// block for long.
	OnEvent func(Event)
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
	path    string
	events  chan Event
	dropped atomic.Uint64
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// eventBuffer is how many events wait on the channel before new ones are
// dropped (and counted by Dropped).
const eventBuffer = 16

// Watch starts watching path and reloads h from it, through r, whenever
// the file changes: rewritten in place, replaced by a rename, or touched.
// A change is reloaded once the file has stayed the same for
// cfg.Debounce. A broken new file (half-written, wrong architecture, failing
// init) is reported as an Event with Err set, the old version keeps
// serving, and the watcher waits for the next change.
//
// The file must exist when Watch is called.
func Watch[H any](ctx context.Context, r Reloader[H], h H, path string, cfg WatchConfig) (*Watcher, error) {
	sig, err := statSig(path)
	if err != nil {
		return nil, fmt.Errorf("hotreload: watch %s: %w", path, err)
	}
	n, err := newNotifier(path)
	if err != nil {
		return nil, fmt.Errorf("hotreload: watch %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{path: path, events: make(chan Event, eventBuffer), cancel: cancel, done: make(chan struct{})}
	go w.run(ctx, n, sig, cfg, func() (Report, error) { return r.ReloadFile(h, path, cfg.Reload) })
	return w, nil
}

// Events returns the channel on which the watcher reports reload
// attempts. It is closed when the watcher stops. When nobody reads it,
// events beyond its buffer of 16 are dropped and counted by Dropped.
func (w *Watcher) Events() <-chan Event { return w.events }

// Dropped counts the events that found the Events channel full.
func (w *Watcher) Dropped() uint64 { return w.dropped.Load() }

// Close stops the watcher and waits for its goroutine to end. A reload in
// progress completes first. Close is idempotent and always returns nil.
func (w *Watcher) Close() error {
	w.once.Do(w.cancel)
	<-w.done
	return nil
}

// fileSig identifies a version of a file well enough to notice that it
// changed: a rename over it changes the identity, a rewrite the size or
// time.
type fileSig struct {
	info os.FileInfo
}

func statSig(path string) (fileSig, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileSig{}, err
	}
	if !fi.Mode().IsRegular() {
		return fileSig{}, errors.New("not a regular file")
	}
	return fileSig{info: fi}, nil
}

func (s fileSig) same(o fileSig) bool {
	if s.info == nil || o.info == nil {
		return s.info == nil && o.info == nil
	}
	return os.SameFile(s.info, o.info) && s.info.Size() == o.info.Size() &&
		s.info.ModTime().Equal(o.info.ModTime()) && s.info.Mode() == o.info.Mode()
}

func (w *Watcher) run(ctx context.Context, n notifier, last fileSig, cfg WatchConfig, reload func() (Report, error)) {
	defer close(w.done)
	defer close(w.events)
	defer n.close()
	for {
		if !n.wait(ctx, cfg.interval()) {
			return
		}
		cur, err := statSig(w.path)
		if err != nil || cur.same(last) {
			continue // gone for now (mid-rename) or unchanged
		}
		// Debounce: wait until the file stops changing.
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(cfg.debounce()):
			}
			next, err := statSig(w.path)
			if err == nil && next.same(cur) {
				break
			}
			if err == nil {
				cur = next
			}
		}
		last = cur
		rep, err := reload()
		w.emit(cfg, Event{Path: w.path, Time: time.Now(), Report: rep, Err: err})
	}
}

func (w *Watcher) emit(cfg WatchConfig, ev Event) {
	if cfg.OnEvent != nil {
		cfg.OnEvent(ev)
	}
	select {
	case w.events <- ev:
	default:
		w.dropped.Add(1)
	}
}

// notifier wakes the watcher when the file may have changed.
type notifier interface {
	// wait returns true after a possible change or after d, and false once
	// ctx is done.
	wait(ctx context.Context, d time.Duration) bool
	close()
}

// pollNotifier wakes the watcher every interval.
type pollNotifier struct{}

func (pollNotifier) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (pollNotifier) close() {}
