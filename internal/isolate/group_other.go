//go:build unix && !linux

package isolate

// waitExited returns at once: without waitid's WNOWAIT here, the reaper
// signals the process group after reaping the worker, when its id is
// reserved only while a member of the group is left (which is exactly
// when the signal matters).
func waitExited(pid int) {}

// becomeSubreaper does nothing here: only Linux (and FreeBSD's procctl,
// not used) lets a process adopt its orphaned descendants.
func becomeSubreaper() {}

// killDescendants does nothing here; the process group is still killed.
func killDescendants() {}
