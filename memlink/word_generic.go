//go:build !amd64 && !arm64

package memlink

import (
	"encoding/binary"
	"unsafe"
)

// loadWord reads eight bytes at p, which need not be aligned, in
// little-endian order, byte by byte where the architecture may not allow
// unaligned words.
func loadWord(p unsafe.Pointer) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(p), 8))
}
