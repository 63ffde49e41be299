package arena

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
)

// Sentinel errors returned by this package. Use errors.Is to test for them,
// since they are usually wrapped with more detail.
var (
	// ErrFull reports that an allocation does not fit in the space left.
	ErrFull = errors.New("arena: out of space")
	// ErrClosed reports use of an arena after Close.
	ErrClosed = errors.New("arena: closed")
	// ErrUnsupported reports that off-heap memory is not available on this
	// platform.
	ErrUnsupported = errors.New("arena: unsupported platform")
)

// maxAlign is the largest alignment Alloc accepts. The region always starts
// on a page boundary and pages are at least this large on every supported
// platform, so aligning an offset also aligns the address.
const maxAlign = 4096

// offClosed is stored in Arena.off once the arena has been closed. Keeping the
// closed state in the offset itself means an Alloc racing with Close either
// completes before Close takes effect or fails its compare-and-swap.
const offClosed = -1

// Arena is a fixed-size region of off-heap memory from which buffers are
// allocated by bumping an offset. The zero value is not usable; create one
// with New. All methods are safe for concurrent use.
type Arena struct {
	mem []byte       // the whole region; never changed after New
	off atomic.Int64 // bytes handed out so far, or offClosed
}

// PageSize returns the operating system's memory page size. Arena
// capacities are rounded up to a multiple of it.
func PageSize() int { return os.Getpagesize() }

// New reserves an arena of at least capacity bytes, rounded up to a
// multiple of PageSize. The memory is reserved but not touched, so it does
// not count towards the resident set until written. Capacity must be
// positive.
func New(capacity int) (*Arena, error) {
	ps := PageSize()
	if capacity <= 0 {
		return nil, fmt.Errorf("arena: capacity must be positive, got %d", capacity)
	}
	if capacity > math.MaxInt-ps {
		return nil, fmt.Errorf("arena: capacity %d is too large", capacity)
	}
	n := (capacity + ps - 1) &^ (ps - 1)
	mem, err := reserve(n)
	if err != nil {
		return nil, fmt.Errorf("arena: reserving %d bytes: %w", n, err)
	}
	return &Arena{mem: mem}, nil
}

// Alloc returns size bytes from the arena whose first byte is aligned to
// align. The slice has len and cap equal to size and may hold stale data
// from before a Reset. A size of 0 yields an empty, non-nil slice.
//
// Alloc returns an error wrapping ErrFull if the request does not fit and
// ErrClosed after Close. It panics if size is negative or align is not a
// power of two between 1 and 4096.
func (a *Arena) Alloc(size, align int) ([]byte, error) {
	if size < 0 {
		panic(fmt.Sprintf("arena: negative allocation size %d", size))
	}
	if align < 1 || align > maxAlign || align&(align-1) != 0 {
		panic(fmt.Sprintf("arena: alignment %d is not a power of two in [1, %d]", align, maxAlign))
	}
	for {
		off := a.off.Load()
		if off == offClosed {
			return nil, ErrClosed
		}
		if size == 0 {
			return a.mem[:0:0], nil
		}
		start := (int(off) + align - 1) &^ (align - 1)
		if start > len(a.mem) || size > len(a.mem)-start {
			return nil, fmt.Errorf("%w: cannot fit %d bytes aligned to %d (%d of %d bytes used)",
				ErrFull, size, align, off, len(a.mem))
		}
		end := start + size
		if a.off.CompareAndSwap(off, int64(end)) {
			return a.mem[start:end:end], nil
		}
	}
}

// Reset makes the whole arena available for allocation again. The caller
// must guarantee that no slice returned by Alloc is still in use. Reset
// does not clear memory. It has no effect on a closed arena.
func (a *Arena) Reset() {
	for {
		off := a.off.Load()
		if off == offClosed || a.off.CompareAndSwap(off, 0) {
			return
		}
	}
}

// Used returns the number of bytes handed out since New or the last Reset,
// including padding inserted for alignment. It returns 0 after Close.
func (a *Arena) Used() int {
	off := a.off.Load()
	if off == offClosed {
		return 0
	}
	return int(off)
}

// Capacity returns the size of the arena in bytes, that is the capacity
// passed to New rounded up to a multiple of PageSize.
func (a *Arena) Capacity() int { return len(a.mem) }

// Close returns the arena's memory to the operating system. Every slice
// obtained from Alloc becomes invalid. Close is idempotent: only the first
// call releases memory, and later or concurrent calls return nil.
func (a *Arena) Close() error {
	for {
		off := a.off.Load()
		if off == offClosed {
			return nil
		}
		if a.off.CompareAndSwap(off, offClosed) {
			return release(a.mem)
		}
	}
}
