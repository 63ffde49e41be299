package isolate

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// limitMemory bounds what the module can add to the worker's memory to
// limit plus a small allowance, with two limits set before the worker
// serves anything (memlink_init runs under them):
//
//   - RLIMIT_AS, the address space: every new mapping counts, private or
//     shared, touched or not. It is set to the worker's address space now
//     (VmSize) plus limit plus the allowance. This is what bounds shared
//     mappings (mmap(MAP_SHARED|MAP_ANONYMOUS), a memfd or a file mapped
//     writable), which RLIMIT_DATA ignores.
//   - RLIMIT_DATA, private writable memory (VmData), likewise.
//
// Measuring first matters: the Go runtime and the loaded libraries have
// already reserved a few hundred MiB of address space that is never
// touched, so a bare RLIMIT_AS of limit would leave the module almost
// nothing. The worker's slot threads are started before the measure
// (startThreads), so their stacks are in it; the allowance covers a few
// more threads the runtime may start later (one thread stack each, 8 MiB
// by default). Address space reserved later on the module's behalf comes
// out of the same budget: glibc's per-thread malloc arenas reserve 64 MiB
// each, which is why the worker runs with MALLOC_ARENA_MAX=1 under a
// limit (see workerEnv). Both the soft and the hard limit are set, so
// that the module cannot raise them.
func limitMemory(limit uint64, slots int) error {
	startThreads(slots + 2)
	size, data, err := vmSizes()
	if err != nil {
		return err
	}
	var stack unix.Rlimit
	perThread := uint64(8 << 20)
	if unix.Getrlimit(unix.RLIMIT_STACK, &stack) == nil && stack.Cur != unix.RLIM_INFINITY && stack.Cur > 0 && stack.Cur < 1<<30 {
		perThread = stack.Cur
	}
	allowance := uint64(spareThreads) * (perThread + 64<<10)
	if err := unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: data + allowance + limit, Max: data + allowance + limit}); err != nil {
		return err
	}
	as := size + allowance + limit
	return unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: as, Max: as})
}

// vmSizes returns the worker's address space (VmSize, which RLIMIT_AS
// bounds) and private writable memory (VmData, which RLIMIT_DATA bounds)
// from /proc/self/status.
func vmSizes() (size, data uint64, err error) {
	b, err := readStatus()
	if err != nil {
		return 0, 0, err
	}
	var found int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		for _, f := range []struct {
			key string
			dst *uint64
		}{{"VmSize:", &size}, {"VmData:", &data}} {
			v, ok := bytes.CutPrefix(sc.Bytes(), []byte(f.key))
			if !ok {
				continue
			}
			fs := bytes.Fields(v)
			if len(fs) != 2 || string(fs[1]) != "kB" {
				return 0, 0, fmt.Errorf("unexpected %s line in /proc/self/status", f.key)
			}
			kb, err := strconv.ParseUint(string(fs[0]), 10, 64)
			if err != nil {
				return 0, 0, err
			}
			*f.dst = kb << 10
			found++
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("no VmSize or VmData in /proc/self/status")
	}
	return size, data, nil
}

// MemoryLimitEnforced reports whether Config.MemoryLimit has an effect on
// this platform.
const MemoryLimitEnforced = true

// maxRSSUnit converts rusage's ru_maxrss to bytes: Linux counts KiB.
const maxRSSUnit = 1024
