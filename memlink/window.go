package memlink

import "unsafe"

// windowZero reports whether b, at most scrubWindow bytes, holds only
// zeros. A full window (the common case) is eight word loads ORed
// together, without a loop: a third of the instructions of a comparison
// with a zero array through runtime.memequal (docs/performance.md).
func windowZero(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	var acc uint64
	if len(b) == scrubWindow {
		acc = loadWord(p) | loadWord(unsafe.Add(p, 8)) | loadWord(unsafe.Add(p, 16)) | loadWord(unsafe.Add(p, 24)) |
			loadWord(unsafe.Add(p, 32)) | loadWord(unsafe.Add(p, 40)) | loadWord(unsafe.Add(p, 48)) | loadWord(unsafe.Add(p, 56))
		return acc == 0
	}
	i := 0
	for ; i+8 <= len(b); i += 8 {
		acc |= loadWord(unsafe.Add(p, i))
	}
	for ; i < len(b); i++ {
		acc |= uint64(*(*byte)(unsafe.Add(p, i)))
	}
	return acc == 0
}
