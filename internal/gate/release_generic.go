//go:build !((amd64 || arm64) && !race)

package gate

import "sync/atomic"

// releaseLane frees a lane with an ordinary (sequentially consistent)
// atomic store where no cheaper release store is available.
func releaseLane(s *atomic.Uint64, v uint64) { s.Store(v) }
