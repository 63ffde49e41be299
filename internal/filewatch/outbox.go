package filewatch

import (
	"log/slog"
	"sync/atomic"
)

// Outbox delivers a watcher's events on a buffered channel without ever
// blocking the watcher: an event that finds the buffer full is dropped,
// counted and logged. It is the single delivery path of every watcher.
type Outbox[E any] struct {
	ch      chan E
	dropped atomic.Uint64
	log     *slog.Logger
	what    string
}

// NewOutbox returns an outbox holding up to n undelivered events. Drops
// are logged to log (nil: not logged) with the attribute watcher=what.
func NewOutbox[E any](n int, log *slog.Logger, what string) *Outbox[E] {
	return &Outbox[E]{ch: make(chan E, n), log: log, what: what}
}

// Send offers ev without blocking.
func (o *Outbox[E]) Send(ev E) {
	select {
	case o.ch <- ev:
	default:
		n := o.dropped.Add(1)
		if o.log != nil {
			o.log.Warn("watcher event dropped: the Events channel is full", "watcher", o.what, "dropped", n)
		}
	}
}

// C is the receiving side.
func (o *Outbox[E]) C() <-chan E { return o.ch }

// Dropped counts the events that found the channel full.
func (o *Outbox[E]) Dropped() uint64 { return o.dropped.Load() }

// Close closes the channel; only the watcher's goroutine calls it, once,
// after its last Send.
func (o *Outbox[E]) Close() { close(o.ch) }
