//go:build !amd64 && !arm64

package memlink

import (
	"encoding/binary"
	"unsafe"
)

// loadWord and storeWord access eight bytes at p, which need not be
// aligned, in little-endian order (takeNUL's zero-byte mask assumes it),
// byte by byte where the architecture may not allow unaligned words.
func loadWord(p unsafe.Pointer) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(p), 8))
}

func storeWord(p unsafe.Pointer, w uint64) {
	binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(p), 8), w)
}
