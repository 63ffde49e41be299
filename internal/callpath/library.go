package callpath

import (
	"errors"

	"github.com/memlink/memlink-go/abi"

	"fmt"
	"sync/atomic"
)

// Library is a shared library opened by the platform's dynamic loader.
// A Library is safe for concurrent use; Close must not race with calls into
// functions looked up from it (package memlink guarantees that by draining
// calls first).
type Library struct {
	path   string
	name   string // what errors call it: path, or the file path stands in for
	handle uintptr
	closed atomic.Bool
	// probe is the address of the first symbol Lookup found: a page of
	// the image (or of a library it depends on) that Mapped looks at
	// once the library is closed.
	probe atomic.Uintptr
	gone  atomic.Bool // MayStayLoaded saw the image gone, for good
}

// Open opens the shared library at path with every symbol resolved now and
// kept local to the library. The file is not validated here; see
// [CheckFile]. A library the loader refuses yields an error wrapping
// [abi.ErrInvalidModule] with the loader's own message.
//
// Opening a path that is already open returns the same image: the loader
// counts references, and both share the library's global variables.
func Open(path string) (*Library, error) { return OpenAs(path, path) }

// OpenAs is [Open] for a file that stands in for another, such as a private
// copy: it opens path, but errors (its own, the loader's, [Library.Lookup]'s
// and [Bind]'s) speak of name, the file the user knows.
func OpenAs(path, name string) (*Library, error) {
	h, err := openLibrary(path, name)
	if err != nil {
		return nil, err
	}
	return &Library{path: path, name: name, handle: h}, nil
}

// Path returns the path the library was opened from.
func (l *Library) Path() string { return l.path }

// Lookup returns the address of the exported function name, or an error
// wrapping [abi.ErrMissingSymbol] that names the symbol and the file.
func (l *Library) Lookup(name string) (uintptr, error) {
	if l.closed.Load() {
		return 0, fmt.Errorf("%s: %w", l.name, ErrLibraryClosed)
	}
	p, err := lookupSymbol(l.handle, name)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("%w: %s does not export %s", abi.ErrMissingSymbol, l.name, name)
	}
	l.probe.CompareAndSwap(0, p)
	return p, nil
}

// Close releases the library. It is idempotent: only the first call asks
// the loader to drop its reference.
func (l *Library) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := closeLibrary(l.handle); err != nil {
		return fmt.Errorf("closing %s: %w", l.name, err)
	}
	return nil
}

// Errors of this package, checked with errors.Is.
var (
	// ErrUnsupported reports a platform on which modules cannot be opened.
	// It matches errors.ErrUnsupported.
	ErrUnsupported = fmt.Errorf("loading modules is not supported on this platform: %w", errors.ErrUnsupported)
	// ErrLibraryClosed reports a use of a Library after Close.
	ErrLibraryClosed = errors.New("library closed")
)
