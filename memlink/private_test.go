package memlink

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
)

// TestCopyInto copies sizes around the header and chunk boundaries, the
// head given already read, and checks the copy and the digest.
func TestCopyInto(t *testing.T) {
	for _, size := range []int{0, 1, abi.HeaderSize - 1, abi.HeaderSize, abi.HeaderSize + 1, copyChunk + abi.HeaderSize + 5} {
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(rand.Uint32())
		}
		for round := range 2 { // the second round gets recycled buffers
			var dst bytes.Buffer
			h := sha256.New()
			n := min(size, abi.HeaderSize)
			if err := copyInto(&dst, bytes.NewReader(src[n:]), int64(size), src[:n], h); err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if !bytes.Equal(dst.Bytes(), src) {
				t.Fatalf("size %d round %d: copy differs", size, round)
			}
			if want := sha256.Sum256(src); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatalf("size %d round %d: digest differs", size, round)
			}
		}
	}
	// A source shorter than announced fails instead of copying less, and
	// says the source is to blame.
	var dst bytes.Buffer
	if err := copyInto(&dst, bytes.NewReader(make([]byte, 10)), 30, make([]byte, 10), nil); !errors.Is(err, errCopySource) {
		t.Fatalf("copyInto of a short source = %v; want errCopySource", err)
	}
}

// TestPrivateCopyChanged: a file that grows, shrinks or is rewritten
// after its status was taken is refused, not half copied.
func TestPrivateCopyChanged(t *testing.T) {
	dir := t.TempDir()
	body := make([]byte, 3*copyChunk)
	for i := range body {
		body[i] = byte(i)
	}
	rt := New()
	defer rt.Close()
	for name, change := range map[string]func(p string) error{
		"grows": func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write([]byte("more"))
			return err
		},
		"shrinks": func(p string) error { return os.Truncate(p, copyChunk) },
		"is rewritten": func(p string) error {
			time.Sleep(10 * time.Millisecond) // past a coarse clock tick
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("changed"), 2*copyChunk)
			return err
		},
	} {
		p := filepath.Join(dir, "m.so")
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		src, fi, err := openPlain(p)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, abi.HeaderSize)
		if _, err := io.ReadFull(src, head); err != nil {
			t.Fatal(err)
		}
		if err := change(p); err != nil {
			t.Fatal(err)
		}
		pf, _, err := rt.privateCopy(p, src, fi, head, true)
		src.Close()
		if err == nil {
			pf.remove()
			t.Errorf("a file that %s while copied was copied", name)
		} else if !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), "changed while it was") {
			t.Errorf("file that %s: %v; want ErrInvalidModule saying it changed", name, err)
		}
	}
}
