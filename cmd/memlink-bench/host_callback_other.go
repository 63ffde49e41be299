//go:build !(darwin || freebsd || linux || netbsd || windows)

package main

import (
	"sync/atomic"

	"github.com/memlink/memlink-go/abi"
)

// rawHost has no callbacks here: the host row is n/a.
var rawHost struct {
	table       abi.HostTable
	calls, logs atomic.Int64
}

func rawHostCallbacks() (logPtr, callPtr uintptr) { return 0, 0 }
