package isolate

import (
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// waitGroup waits for the worker p to end, kills its process group (what
// the module forked and left there) and reaps it. The group is killed
// after the worker has ended but before it is reaped (waitid with
// WNOWAIT): the zombie keeps its pid, and so the group's id, reserved, so
// that the signal cannot reach a process that reused the number.
func waitGroup(p *os.Process) (*os.ProcessState, error) {
	var info unix.Siginfo
	for unix.Waitid(unix.P_PID, p.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
	}
	_ = unix.Kill(-p.Pid, unix.SIGKILL) // fails when nothing is left in the group
	return p.Wait()
}

// becomeSubreaper makes the worker the parent of every orphaned process
// below it (a child of the module's child whose parent exits, as when a
// process daemonises with fork, setsid and fork), so that
// killDescendants can find them even when they left the worker's
// process group.
func becomeSubreaper() {
	// Without it (a kernel before 3.4), only the process group is killed.
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// killDescendants kills every process below the worker: its children
// (the module's, and the orphans it adopted as a subreaper), round after
// round, since a child killed leaves its own children to the worker. It
// reaps them as it goes. It stops when none is left or after a second
// (a module forking faster than it is killed).
func killDescendants() {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		pids := children()
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			_ = unix.Kill(p, unix.SIGKILL) // fails only for one already gone
		}
		for _, p := range pids {
			var ws unix.WaitStatus
			for {
				if _, err := unix.Wait4(p, &ws, 0, nil); err != unix.EINTR {
					break
				}
			}
		}
	}
}

// children lists the worker's child processes, from the per-thread lists
// in /proc (a process is listed under the thread that forked it; adopted
// orphans under the main thread).
func children() []int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil
	}
	var pids []int
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			continue // the thread exited
		}
		for f := range strings.FieldsSeq(string(b)) {
			if p, err := strconv.Atoi(f); err == nil && p > 0 {
				pids = append(pids, p)
			}
		}
	}
	return pids
}
