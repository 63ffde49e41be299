package memlink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Ref names a module to load. The zero Ref is invalid; make one with
// ParseRef.
//
// Today a Ref is a file path (relative paths are resolved by the runtime's
// Resolver, against the working directory by default). The type leaves room
// for other forms, such as registry names, without changing Load.
type Ref struct {
	raw string
}

// ParseRef parses a module reference: a path to a shared library such as
// "./my_module.so" or "/opt/plugins/echo.dll". It rejects empty strings and
// strings with NUL bytes (which no file system accepts).
func ParseRef(s string) (Ref, error) {
	if strings.TrimSpace(s) == "" {
		return Ref{}, errors.New("memlink: empty module reference")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Ref{}, fmt.Errorf("memlink: module reference %q contains a NUL byte", s)
	}
	return Ref{raw: s}, nil
}

// MustParseRef is ParseRef for references known to be valid, such as
// literals in a program. It panics on error.
func MustParseRef(s string) Ref {
	r, err := ParseRef(s)
	if err != nil {
		panic(err.Error())
	}
	return r
}

// String returns the reference as it was parsed.
func (r Ref) String() string { return r.raw }

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r.raw == "" }

// Resolver turns a module reference into the path of a file to load. It is
// consulted by Load and Reload; implementations must be safe for concurrent
// use. A reference that does not resolve yields an error wrapping
// ErrNotFound that says where it looked.
type Resolver interface {
	Resolve(ref Ref) (path string, err error)
}

// LocalResolver resolves references as file paths. Relative paths are taken
// relative to Dir.
type LocalResolver struct {
	// Dir is the directory relative paths are resolved against. Empty means
	// the process's working directory at the time of the call.
	Dir string
}

// Resolve returns the absolute path of ref, or an error wrapping ErrNotFound
// when no file exists there.
func (l LocalResolver) Resolve(ref Ref) (string, error) {
	if ref.IsZero() {
		return "", fmt.Errorf("%w: empty reference", ErrNotFound)
	}
	p := ref.raw
	if !filepath.IsAbs(p) && l.Dir != "" {
		p = filepath.Join(l.Dir, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrNotFound, ref.raw, err)
	}
	if _, err := os.Stat(abs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%w: no file at %s", ErrNotFound, abs)
		}
		return "", fmt.Errorf("%w: %s: %v", ErrInvalidModule, abs, err)
	}
	return abs, nil
}
