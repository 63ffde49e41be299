//go:build darwin || freebsd || linux || netbsd || windows

package main

import (
	"sync/atomic"
	"time"

	"github.com/ebitengine/purego"
)

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
