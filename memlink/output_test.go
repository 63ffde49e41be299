package memlink

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// takeNULReference is what takeNUL must do, written the plain way: search,
// append, scrub.
func takeNULReference(dst, buf []byte, argsLen int) []byte {
	k := bytes.IndexByte(buf, 0)
	if k < 0 {
		k = len(buf)
	}
	dst = append(dst, buf[:k]...)
	scrub(buf, k, argsLen)
	return dst
}

// TestTakeNULMatchesReference compares takeNUL with the search, append and
// scrub it replaces on random buffers: NULs anywhere or nowhere, stray
// bytes after the terminator (in the window and beyond it), destinations
// with no room, a little or plenty, inputs shorter and longer than the
// output. The result, the buffer left behind and every byte of dst's
// spare capacity beyond the result must be the same.
func TestTakeNULMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 50000 {
		size := []int{1, 7, 15, 16, 17, 31, 63, 64, 65, 79, 80, 200, 256, 300, 319, 320, 321, 1024, 4096}[r.IntN(19)]
		buf := make([]byte, size)
		k := r.IntN(size + 2) // size or more: no NUL
		for i := range min(k, size) {
			buf[i] = byte(r.IntN(255)) + 1
		}
		for range r.IntN(4) {
			if p := k + 1 + r.IntN(size+1); p < size {
				buf[p] = byte(r.IntN(256))
			}
		}
		argsLen := r.IntN(size + 80)
		pre := []byte("prefix")
		room := []int{0, 1, 3, 15, 16, 17, 64, 70, 300, 600, 5000}[r.IntN(11)]
		mk := func() []byte {
			d := make([]byte, len(pre), len(pre)+room)
			copy(d, pre)
			full := d[:cap(d)]
			for i := len(pre); i < len(full); i++ {
				full[i] = 0xAA
			}
			return d
		}
		wantBuf := bytes.Clone(buf)
		want := takeNULReference(mk(), wantBuf, argsLen)
		gotBuf := bytes.Clone(buf)
		got := takeNUL(mk(), gotBuf, argsLen)
		if !bytes.Equal(got, want) {
			t.Fatalf("iter %d (size %d, k %d, args %d, room %d): output %q, want %q", iter, size, k, argsLen, room, got, want)
		}
		if !bytes.Equal(gotBuf, wantBuf) {
			t.Fatalf("iter %d (size %d, k %d, args %d, room %d): buffer left %v, want %v", iter, size, k, argsLen, room, gotBuf, wantBuf)
		}
		if cap(got) == len(pre)+room { // not grown: the spare capacity is the caller's
			for i, c := range got[len(got):cap(got)] {
				if c != 0xAA {
					t.Fatalf("iter %d (size %d, k %d, room %d): wrote dst's spare byte %d past the result", iter, size, k, room, i)
				}
			}
		}
	}
}

// TestTakeNULStrayBytes: bytes a module left after its terminator, in the
// terminator's own chunk and beyond the window, make the whole buffer be
// cleared; the output stops at the terminator.
func TestTakeNULStrayBytes(t *testing.T) {
	for _, k := range []int{0, 3, 8, 13, 16, 31, 64, 250} {
		buf := make([]byte, 1024)
		for i := range k {
			buf[i] = 'a'
		}
		buf[k+1] = 'x'   // the terminator's chunk, or the next
		buf[k+200] = 'y' // beyond the window
		got := takeNUL(make([]byte, 0, 512), buf, 0)
		if len(got) != k {
			t.Fatalf("k=%d: output of %d bytes", k, len(got))
		}
		if i := bytes.IndexFunc(buf, func(r rune) bool { return r != 0 }); i >= 0 {
			t.Fatalf("k=%d: byte %d left non-zero", k, i)
		}
	}
}
