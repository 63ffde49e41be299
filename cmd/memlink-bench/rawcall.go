//go:build darwin || freebsd || linux || netbsd || windows

package main

import (
	"sync/atomic"
	"time"

	"github.com/ebitengine/purego"
)

// rawCallLoop calls fn with argv through purego.SyscallN, reusing argv,
// for at least d, and returns the number of calls and the time taken. The
// memory argv points to must be kept alive by the caller.
func rawCallLoop(fn uintptr, argv []uintptr, d time.Duration) (int64, time.Duration) {
	var n int64
	start := time.Now()
	for {
		for range callBatch {
			purego.SyscallN(fn, argv...)
		}
		n += callBatch
		if el := time.Since(start); el >= d {
			return n, el
		}
	}
}

// rawCallN calls fn with argv n times and returns the time taken.
func rawCallN(fn uintptr, argv []uintptr, n int) time.Duration {
	start := time.Now()
	for range n {
		purego.SyscallN(fn, argv...)
	}
	return time.Since(start)
}

// rawCallUntil calls fn with argv until stop reports true and returns the
// number of calls.
func rawCallUntil(fn uintptr, argv []uintptr, stop *atomic.Bool) int64 {
	var n int64
	for n == 0 || !stop.Load() {
		for range callBatch {
			purego.SyscallN(fn, argv...)
		}
		n += callBatch
	}
	return n
}

// rawCallOnce calls fn once and returns its result register.
func rawCallOnce(fn uintptr, argv []uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, argv...)
	return r
}
