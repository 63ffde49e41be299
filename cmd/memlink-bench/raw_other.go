//go:build !(darwin || freebsd || linux || netbsd || windows)

package main

import (
	"sync/atomic"
	"time"
)

func rawCallN(uintptr, []uintptr, int) time.Duration { return 0 }

func rawCallOnce(uintptr, []uintptr) uintptr { return ^uintptr(0) }

func rawCallUntil(uintptr, []uintptr, *atomic.Bool) int64 { return 0 }
