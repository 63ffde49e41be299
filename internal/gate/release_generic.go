//go:build !amd64 || race

package gate

import "sync/atomic"

// releaseLane frees a lane with Go's atomic store: on arm64 that is STLR,
// a release store already; elsewhere (and under the race detector) an
// ordinary sequentially consistent store.
func releaseLane(s *atomic.Uint64, v uint64) { s.Store(v) }
