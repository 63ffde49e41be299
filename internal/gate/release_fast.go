//go:build (amd64 || arm64) && !race

package gate

import (
	"sync/atomic"
	"unsafe"
)

// storeRelease publishes v at p with release ordering only: a plain MOV on
// amd64 (whose stores are never reordered with earlier loads or stores) and
// STLR on arm64. Go's atomic stores are sequentially consistent, which
// costs a locked XCHG on amd64 for every call leaving a gate; a lane's
// release needs only that the call's own work is visible before the lane
// reads as free. Under the race detector the atomic store is used instead,
// so the detector sees the hand-over between lane owners.
//
//go:noescape
func storeRelease(p *uint64, v uint64)

func releaseLane(s *atomic.Uint64, v uint64) {
	storeRelease((*uint64)(unsafe.Pointer(s)), v)
}
