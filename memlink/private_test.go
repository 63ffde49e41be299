package memlink

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/memlink/memlink-go/abi"
)

// TestCopyInto copies sizes around the header and chunk boundaries and
// checks the copy, the digest and the head it returns.
func TestCopyInto(t *testing.T) {
	for _, size := range []int{0, 1, abi.HeaderSize - 1, abi.HeaderSize, abi.HeaderSize + 1, copyChunk + abi.HeaderSize + 5} {
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(rand.Uint32())
		}
		for round := range 2 { // the second round gets recycled buffers
			var dst bytes.Buffer
			h := sha256.New()
			head, err := copyInto(&dst, bytes.NewReader(src), int64(size), h)
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if !bytes.Equal(dst.Bytes(), src) {
				t.Fatalf("size %d round %d: copy differs", size, round)
			}
			if want := sha256.Sum256(src); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatalf("size %d round %d: digest differs", size, round)
			}
			if !bytes.Equal(head, src[:min(size, abi.HeaderSize)]) {
				t.Fatalf("size %d round %d: head is not the first bytes", size, round)
			}
			releaseHead(head)
		}
	}
	// A source shorter than announced fails instead of copying less.
	var dst bytes.Buffer
	if _, err := copyInto(&dst, bytes.NewReader(make([]byte, 10)), 20, nil); err == nil {
		t.Fatal("copyInto of a short source succeeded")
	}
}
