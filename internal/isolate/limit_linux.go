package isolate

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// limitMemory bounds the memory the module can take with RLIMIT_DATA, set
// to what the worker uses now, plus limit, plus the stacks of the threads
// the worker will start: one per slot and a few for the Go runtime.
//
// RLIMIT_DATA (since Linux 4.7) counts private writable mappings: what a
// module can actually fill, from malloc's heap and mmap'd blocks to its
// own globals, and thread stacks. RLIMIT_AS, the obvious choice, also
// counts address space that is reserved and never touched, and both the Go
// runtime (hundreds of MiB for its heap index) and glibc (64 MiB per
// thread arena) reserve a lot: a 64 MiB address-space limit left a test
// module 12 MiB. The thread allowance is an estimate, so the module gets
// at least limit and at most limit plus a few stacks (8 MiB each by
// default) that the runtime did not start. Both the soft and the hard
// limit are set, so that the module cannot raise them. It runs before the
// worker serves anything, so memlink_init runs under the limit too.
func limitMemory(limit uint64, slots int) error {
	data, err := vmData()
	if err != nil {
		return err
	}
	var stack unix.Rlimit
	perThread := uint64(8 << 20)
	if unix.Getrlimit(unix.RLIMIT_STACK, &stack) == nil && stack.Cur != unix.RLIM_INFINITY && stack.Cur > 0 && stack.Cur < 1<<30 {
		perThread = stack.Cur
	}
	n := data + uint64(slots+spareThreads)*(perThread+64<<10) + limit
	return unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: n, Max: n})
}

// spareThreads is how many threads beyond one per slot the limit leaves
// room for: the runtime's own (sysmon, the thread that watches the
// lifeline, one or two spare).
const spareThreads = 4

// vmData returns the worker's private writable memory, the quantity
// RLIMIT_DATA bounds, from /proc/self/status.
func vmData() (uint64, error) {
	b, err := readStatus()
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmData:")); ok {
			f := bytes.Fields(v)
			if len(f) == 2 && string(f[1]) == "kB" {
				kb, err := strconv.ParseUint(string(f[0]), 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmData in /proc/self/status")
}

// MemoryLimitEnforced reports whether Config.MemoryLimit has an effect on
// this platform.
const MemoryLimitEnforced = true

// maxRSSUnit converts rusage's ru_maxrss to bytes: Linux counts KiB.
const maxRSSUnit = 1024
