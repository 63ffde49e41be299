package memlink

import (
	"slices"
	"sync"

	"github.com/memlink/memlink-go/arena"
)

// The lane buffers of a module that was unloaded are kept for the next
// module that needs an arena of the same size, a few at a time: each Load
// and Unload then spares an mmap and an munmap, and the next module's
// first calls the page faults of fresh memory. An arena is recycled only
// when nothing of the old module can still write into it and nothing it
// wrote can be read by the next one:
//
//   - the module's calls have all left (release runs after the drain) and
//     its image is seen gone from memory (callpath.Library.MayStayLoaded):
//     an image that stays mapped could still run code of the module, in a
//     thread of its own, that keeps a pointer into its buffers;
//   - the module never broke a canary (a quarantined module's arena is
//     unmapped, as before: what it did past its buffers is unknown);
//   - every lane a call used is cleared, buffer, canary and out_len cell
//     (lanes no call used were never handed to the module), and so is the
//     spare page after the last lane if that lane was used.
//
// The free list is taken under a mutex: an arena leaves it for one module
// only. A new module arms its own canary on each lane's first call.

// maxFreeArenas bounds the arenas kept (each reserves the lanes of one
// module, 4 lanes of 64 KiB by default; the pages of cleared lanes stay
// resident).
const maxFreeArenas = 4

var laneArenas struct {
	mu   sync.Mutex
	free []*arena.Arena
}

// takeArena returns a kept arena of capacity bytes (a multiple of the page
// size), or nil.
func takeArena(capacity int) *arena.Arena {
	laneArenas.mu.Lock()
	defer laneArenas.mu.Unlock()
	for i, a := range laneArenas.free {
		if a.Capacity() == capacity {
			laneArenas.free = slices.Delete(laneArenas.free, i, i+1) // keeps the order: oldest first
			return a
		}
	}
	return nil
}

// keepArena keeps a, which the caller has cleared and no longer uses,
// for a later module. When enough are kept it returns the one kept
// longest, which the caller closes: the newest are the likeliest to fit
// the next load (a reload of the same module).
func keepArena(a *arena.Arena) (evicted *arena.Arena) {
	laneArenas.mu.Lock()
	defer laneArenas.mu.Unlock()
	if len(laneArenas.free) >= maxFreeArenas {
		evicted = laneArenas.free[0]
		laneArenas.free = slices.Delete(laneArenas.free, 0, 1)
	}
	laneArenas.free = append(laneArenas.free, a)
	return evicted
}

// laneArenaSize is the capacity of the arena of count lanes of stride
// bytes: one spare page at the end keeps a small overrun of the last lane
// inside the mapping, where the canary reports it.
func laneArenaSize(count, stride int) int {
	ps := arena.PageSize()
	return (count*stride + ps + ps - 1) &^ (ps - 1)
}

// freeLanes gives the lanes' arena back, to the free list when it may be
// reused (see above), to the system otherwise. The library is closed and
// no call holds a lane.
func (n *nativeModule) freeLanes() error {
	mem := n.mem
	if mem == nil {
		return nil
	}
	n.mem = nil // released once: an arena must not be kept twice
	if n.corrupted.Load() || n.lib.MayStayLoaded() {
		return mem.Close()
	}
	stride := n.stride()
	mem.Reset() // no call holds a lane: the module has drained
	whole, err := mem.Alloc(mem.Capacity(), 64)
	if err != nil {
		return mem.Close()
	}
	for i := range n.lanes {
		if n.lanes[i].Load() == nil {
			continue
		}
		end := (i + 1) * stride
		if i == len(n.lanes)-1 {
			end = len(whole) // and the spare page
		}
		clear(whole[i*stride : end])
	}
	if old := keepArena(mem); old != nil {
		return old.Close()
	}
	return nil
}
