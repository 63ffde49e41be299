package filewatch

import (
	"context"
	"time"
)

// Notifier wakes a watcher when something in the directories it watches
// may have changed.
type Notifier interface {
	// Wait returns true after a possible change or once d has passed, and
	// false as soon as ctx is done.
	Wait(ctx context.Context, d time.Duration) bool
	// Close releases the notifier.
	Close()
}

// pollNotifier only waits: the watcher compares signatures at every wake.
type pollNotifier struct{}

func (pollNotifier) Wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (pollNotifier) Close() {}

// Poll returns a notifier that never wakes early, for tests and for
// platforms without change notification.
func Poll() Notifier { return pollNotifier{} }
