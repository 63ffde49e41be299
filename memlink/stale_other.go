//go:build !unix && !windows

package memlink

// processGone reports whether no process with this pid exists. Without a
// cheap check it answers false, so nothing is removed.
func processGone(pid int) bool { return false }
