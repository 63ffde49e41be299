package isolate

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/windows"
)

// inherited is what a Windows worker finds in EnvHandles.
type inherited struct {
	region   windows.Handle
	size     int
	lifeline windows.Handle
	events   []windows.Handle
}

func parseHandles(s string) (inherited, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return inherited{}, fmt.Errorf("%s=%q: too few values", EnvHandles, s)
	}
	var v []uint64
	for _, x := range f {
		n, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return inherited{}, fmt.Errorf("%s=%q: %w", EnvHandles, s, err)
		}
		v = append(v, n)
	}
	in := inherited{region: windows.Handle(v[0]), size: int(v[1]), lifeline: windows.Handle(v[2])}
	for _, h := range v[3:] {
		in.events = append(in.events, windows.Handle(h))
	}
	return in, nil
}

// serve runs the worker and returns its exit code. It never returns while
// the host is alive and the worker healthy.
func serve() int {
	in, err := parseHandles(os.Getenv(EnvHandles))
	os.Unsetenv(EnvWorker)
	os.Unsetenv(EnvHandles)
	if err != nil {
		return fail("%v", err)
	}
	mem, err := mapShared(in.region, in.size)
	if err != nil {
		return fail("%v", err)
	}
	_ = windows.CloseHandle(in.region) // the view keeps it
	sv, err := newServer(mem, func(h *header) (*workerBell, error) { return newWorkerBell(in.events, h.slots) })
	if err != nil {
		return fail("%v", err)
	}
	watchFaults(mem)
	// The host waits for this under a memory limit, to measure what the
	// worker commits before the module loads (limitMemory has started
	// the threads the slots will use).
	(*atomic.Uint32)(unsafe.Pointer(&mem[hReady])).Store(1)
	sv.start()
	// The main goroutine watches the lifeline: the host holds the only
	// write end, so a read that returns means the host is gone, and the
	// worker must not outlive it. (The Job Object ends it too, when the
	// host's handle of it closes.)
	var b [1]byte
	var n uint32
	_ = windows.ReadFile(in.lifeline, b[:], &n, nil) // returns with ERROR_BROKEN_PIPE
	return exitOrphaned
}
