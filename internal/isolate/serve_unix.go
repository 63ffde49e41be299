//go:build unix

package isolate

import (
	"os"

	"golang.org/x/sys/unix"
)

// serve runs the worker and returns its exit code. It never returns while
// the host is alive and the worker healthy.
func serve() int {
	os.Unsetenv(EnvWorker)
	resetFatalSignals()
	becomeSubreaper()

	region := os.NewFile(fdRegion, "memlink-isolate")
	st, err := region.Stat()
	if err != nil {
		return fail("shared region: %v", err)
	}
	mem, err := mapShared(region, int(st.Size()))
	if err != nil {
		return fail("%v", err)
	}
	region.Close()
	sv, err := newServer(mem, func(h *header) (*workerBell, error) {
		catchForbidden(mem)
		if h.exeFD != 0 {
			unix.Close(int(h.exeFD)) // this program's own image; the module has no use for it
		}
		return newWorkerBell(int(h.pipeBase), h.slots)
	})
	if err != nil {
		return fail("%v", err)
	}
	sv.start()
	// The main goroutine watches the lifeline: the host holds the only
	// write end, so a read that returns means the host is gone (or asked
	// the worker to go), and the worker must not outlive it.
	var b [1]byte
	for {
		_, err := unix.Read(fdLifeline, b[:])
		if err != unix.EINTR {
			break
		}
	}
	// Nobody is left to reap the module's processes: kill them, those
	// that left the process group included (Linux), and the group with
	// this process in it.
	killDescendants()
	_ = unix.Kill(0, unix.SIGKILL)
	return exitOrphaned
}
