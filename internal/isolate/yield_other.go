//go:build !linux

package isolate

import "runtime"

// yield gives the processor to another goroutine while spinning. (Linux
// also yields the CPU to other threads now and then; see yield_linux.go.)
func yield(osToo bool) { runtime.Gosched() }

// yieldLocked is yield for a goroutine locked to its thread (inside a C
// callback), where runtime.Gosched would hand the thread's P away and
// back: it does nothing, and the spin stays bounded by its window.
func yieldLocked(bool) {}
