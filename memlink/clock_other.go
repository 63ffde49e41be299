//go:build !windows

package memlink

import _ "unsafe" // for go:linkname

// nanotime is the runtime's monotonic clock, the one time.Since reads.
// time.Now reads the wall clock as well, which doubles the cost of a
// sampled call's timing for a figure nobody needs (the default sampling
// interval is 256 calls, DefaultLatencySampling). The runtime keeps this
// name reachable for linkname because many packages use it.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64
