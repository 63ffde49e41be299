//go:build unix && !linux

package isolate

import (
	"os"

	"golang.org/x/sys/unix"
)

// waitGroup waits for the worker p to end, reaps it and kills its process
// group (what the module forked and left there). Without waitid's WNOWAIT
// here the group is signalled after the reap, when its id stays reserved
// only while a member of the group is left, which is exactly when the
// signal matters.
func waitGroup(p *os.Process) (*os.ProcessState, error) {
	ps, err := p.Wait()
	_ = unix.Kill(-p.Pid, unix.SIGKILL) // fails when nothing is left in the group
	return ps, err
}

// becomeSubreaper does nothing here: only Linux (and FreeBSD's procctl,
// not used) lets a process adopt its orphaned descendants.
func becomeSubreaper() {}

// killDescendants does nothing here; the process group is still killed.
func killDescendants() {}
