package memlink

import (
	"fmt"
	"io"
	"os"

	"github.com/memlink/memlink-go/abi"
)

// checkCopy validates a private copy before the loader opens it: from the
// bytes copyInto kept, and, for a library larger than those, from the copy
// itself (never from the original, which may have changed since). Errors
// name the original, name.
func checkCopy(name string, p *privateFile) (abi.Image, error) {
	var r io.ReaderAt
	switch {
	case int64(len(p.head)) >= p.size:
	case p.memfd != nil:
		r = p.memfd
	default:
		f, err := os.Open(p.path)
		if err != nil {
			return abi.Image{}, fmt.Errorf("%w: %s: reading its private copy: %v", ErrInvalidModule, name, err)
		}
		defer f.Close()
		r = f
	}
	return abi.CheckImage(name, p.head, r, p.size)
}
