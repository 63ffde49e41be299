package memlink

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestWindowZero compares windowZero with a byte loop for every length
// up to a full window and a non-zero byte at every position.
func TestWindowZero(t *testing.T) {
	mem := make([]byte, scrubWindow+16)
	for off := range 8 { // unaligned starts too
		for n := 0; n <= scrubWindow; n++ {
			b := mem[off : off+n]
			if !windowZero(b) {
				t.Fatalf("offset %d, %d zero bytes: reported non-zero", off, n)
			}
			for i := range n {
				b[i] = byte(1 + rand.IntN(255))
				if windowZero(b) {
					t.Fatalf("offset %d, %d bytes, byte %d = %#x: reported zero", off, n, i, b[i])
				}
				b[i] = 0
			}
		}
	}
}

// TestScrub checks what the next call relies on: after scrub, a buffer
// holding an output, stray bytes after its terminator (near: in the
// window; far: beyond it, which scrub only clears when the window showed
// the module writing past its terminator) and an input longer than the
// output is zero wherever the module could have written something the
// next call would read.
func TestScrub(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 20000 {
		size := []int{0, 1, 7, 8, 9, 63, 64, 65, 200, 256, 300, 1024}[r.IntN(12)]
		buf := make([]byte, size)
		k := r.IntN(size + 1)
		for i := range k {
			buf[i] = byte(r.IntN(255)) + 1
		}
		near, far := -1, -1
		if size > k+1 && r.IntN(2) == 0 {
			near = k + 1 + r.IntN(min(scrubWindow, size-k-1))
			buf[near] = 'n'
		}
		if size > k+scrubWindow+1 && r.IntN(2) == 0 {
			far = k + scrubWindow + 1 + r.IntN(size-k-scrubWindow-1)
			buf[far] = 'f'
		}
		argsLen := r.IntN(size + 80)
		orig := bytes.Clone(buf)
		scrub(buf, k, argsLen)
		end := min(max(k, argsLen), size)
		for i, c := range buf {
			// Everything up to end is cleared; past it, the bytes are
			// cleared when the window held a stray byte, or kept.
			inWindow := near >= end && near < end+scrubWindow || far >= end && far < end+scrubWindow
			want := orig[i]
			if i < end || inWindow {
				want = 0
			}
			if c != want {
				t.Fatalf("iter %d (size %d, k %d, args %d, near %d, far %d): byte %d = %#x, want %#x", iter, size, k, argsLen, near, far, i, c, want)
			}
		}
	}
}
