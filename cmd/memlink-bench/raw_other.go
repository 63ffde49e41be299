//go:build !(darwin || freebsd || linux || netbsd || windows)

package main

import (
	"errors"
	"sync/atomic"
	"time"
)

// errNoLoader is what the raw baselines report where memlink cannot load
// modules either.
var errNoLoader = errors.New("no dynamic loader support on this platform")

func rawOpen(string) (uintptr, error) { return 0, errNoLoader }

func rawSym(uintptr, string) (uintptr, error) { return 0, errNoLoader }

func rawClose(uintptr) error { return errNoLoader }

func rawCallLoop(uintptr, []uintptr, time.Duration) (int64, time.Duration) { return 0, 0 }

func rawCallOnce(uintptr, []uintptr) uintptr { return ^uintptr(0) }

func rawCallUntil(uintptr, []uintptr, *atomic.Bool) int64 { return 0 }
