//go:build amd64 && !race

package gate

import (
	"sync/atomic"
	"unsafe"
)

// releaseLane publishes v in s with release ordering only: a plain MOV,
// since amd64 never reorders a store with the loads and stores before it
// (and the compiler keeps a store after the loads and stores that precede
// it). Go's atomic stores are sequentially consistent, which costs a locked
// XCHG on amd64 for every call leaving a gate; a lane's release needs only
// that the call's own work is visible before the lane reads as free. Only
// the lane's owner writes the lane, so the store cannot lose an update.
// Under the race detector the atomic store is used instead, so that the
// detector sees the hand-over between lane owners.
func releaseLane(s *atomic.Uint64, v uint64) {
	*(*uint64)(unsafe.Pointer(s)) = v
}
