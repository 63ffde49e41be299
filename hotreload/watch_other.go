//go:build !linux

package hotreload

// newNotifier polls: only Linux has a notification source here that needs
// no new dependency.
func newNotifier(string) (notifier, error) { return pollNotifier{}, nil }
