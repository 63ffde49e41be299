//go:build amd64 || arm64

package memlink

import "unsafe"

// loadWord reads eight bytes at p, which need not be aligned: both
// architectures allow it at full speed.
func loadWord(p unsafe.Pointer) uint64 { return *(*uint64)(p) }
