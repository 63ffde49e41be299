//go:build !linux

package filewatch

// NewNotifier polls: only Linux has a change notification here that needs
// no new dependency; the watcher's interval sets how soon a change is seen.
func NewNotifier(...string) Notifier { return pollNotifier{} }
