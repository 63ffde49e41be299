//go:build !windows

package isolate

import "time"

var spinBase = time.Now()

// spinClock returns monotonic nanoseconds from an arbitrary origin, for
// timing spins: the runtime's monotonic clock.
func spinClock() int64 { return int64(time.Since(spinBase)) }
