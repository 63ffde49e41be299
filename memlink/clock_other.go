//go:build !windows

package memlink

import _ "unsafe" // for go:linkname

// nanotime is the runtime's monotonic clock, the one time.Since reads.
// time.Now reads the wall clock as well, which doubles the cost of a
// sampled call's timing for a figure nobody needs; on the VM this was
// measured on, the two time.Now/time.Since reads of one sample cost about
// 2 ns per call spread over a sampling interval of 64. The runtime keeps
// this name reachable for linkname because many packages use it.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64
