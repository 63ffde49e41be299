//go:build linux || windows

package isolate

import (
	"runtime"
	"sync"
)

// spareThreads is how many threads the limit leaves room for beyond those
// startThreads made: the runtime may want a few more (for a goroutine
// while every slot thread is blocked, the garbage collector).
const spareThreads = 4

// startThreads makes the Go runtime start n threads now, so that their
// stacks are part of the address space limitMemory measures: each of n
// goroutines holds a thread of its own until all do. The threads stay
// with the runtime, idle, for the slot goroutines to use.
func startThreads(n int) {
	var held sync.WaitGroup
	release := make(chan struct{})
	var done sync.WaitGroup
	for range n {
		held.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			held.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	held.Wait()
	close(release)
	done.Wait()
}
