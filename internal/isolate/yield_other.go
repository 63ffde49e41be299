//go:build !linux

package isolate

import "runtime"

// yield gives the processor to another goroutine while spinning. (Linux
// also yields the CPU to other threads now and then; see yield_linux.go.)
func yield(osToo bool) { runtime.Gosched() }
