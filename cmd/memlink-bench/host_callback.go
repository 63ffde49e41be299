//go:build darwin || freebsd || linux || netbsd || windows

package main

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/memlink/memlink-go/abi"
)

// rawHost is the host row's baseline: a host table whose entries are
// plain purego callbacks, as a program using purego alone would write
// them. Callbacks are never freed, so there is one pair per process.
var rawHost struct {
	once        sync.Once
	log, call   uintptr
	table       abi.HostTable // what the raw kv is bound to; outside the heap
	calls, logs atomic.Int64
}

// rawHostCallbacks returns the baseline's log and call entries.
func rawHostCallbacks() (logPtr, callPtr uintptr) {
	rawHost.once.Do(func() {
		rawHost.log = purego.NewCallback(rawHostLog)
		rawHost.call = purego.NewCallback(rawHostCall)
	})
	return rawHost.log, rawHost.call
}

// rawHostCall answers like the memlink side's "bench": the result is the
// args.
func rawHostCall(_, _ uintptr, args *byte, argsLen uintptr, out *byte, outCap uintptr, outLen *uintptr) uintptr {
	rawHost.calls.Add(1)
	if argsLen > 0 && outCap >= argsLen {
		copy(unsafe.Slice(out, argsLen), unsafe.Slice(args, argsLen))
	}
	*outLen = argsLen
	if outCap < argsLen {
		code := int64(abi.CodeOutputTooSmall)
		return uintptr(code) // the module reads the low 32 bits
	}
	return 0
}

// rawHostLog counts the record and drops it.
func rawHostLog(_, _ uintptr, _ *byte, _ uintptr) uintptr {
	rawHost.logs.Add(1)
	return 0
}
