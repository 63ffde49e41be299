package memlink

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Ref names a module to load. The zero Ref is invalid; make one with
// ParseRef, or with FileRef for a path that must not be parsed. A Ref is either a file path or a registry name with a version
// ("echo@1.2.0", "echo@^1.2", "echo@latest"), and either may carry a
// SHA-256 digest that the loaded bytes must match ("./echo.so#sha256=…").
type Ref struct {
	raw     string
	path    string // file path, for path refs
	name    string // module name, for registry refs
	version string // version constraint, for registry refs
	digest  string // lower-case hex SHA-256, or ""
}

// digestMark introduces the digest fragment of a reference.
const digestMark = "#sha256="

// ParseRef parses a module reference:
//
//   - a path to a shared library: "./my_module.so", "/opt/plugins/echo.dll";
//   - a registry name and version: "echo@1.2.0" (exact), "echo@^1.2" (the
//     highest 1.x at or above 1.2.0), "echo@latest"; names are letters,
//     digits, '.', '_' and '-', and contain no path separator;
//   - either form followed by "#sha256=" and 64 hexadecimal digits, which
//     pins the module's bytes: Load refuses a file whose SHA-256 differs.
//
// A '#' not followed by "sha256=" is part of the path. ParseRef rejects
// empty strings, NUL bytes, malformed digests and malformed versions.
func ParseRef(s string) (Ref, error) {
	if strings.TrimSpace(s) == "" {
		return Ref{}, errors.New("memlink: empty module reference")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Ref{}, fmt.Errorf("memlink: module reference %q contains a NUL byte", s)
	}
	r := Ref{raw: s}
	body := s
	if i := strings.LastIndex(s, digestMark); i >= 0 {
		d := s[i+len(digestMark):]
		if len(d) != 64 {
			return Ref{}, fmt.Errorf("memlink: module reference %q: a sha256 digest has 64 hex digits, not %d", s, len(d))
		}
		if _, err := hex.DecodeString(d); err != nil {
			return Ref{}, fmt.Errorf("memlink: module reference %q: digest is not hexadecimal", s)
		}
		r.digest = strings.ToLower(d)
		body = s[:i]
		if body == "" {
			return Ref{}, fmt.Errorf("memlink: module reference %q names no module", s)
		}
	}
	if name, version, ok := strings.Cut(body, "@"); ok && isRegistryName(name) {
		if _, err := parseConstraint(version); err != nil {
			return Ref{}, fmt.Errorf("memlink: module reference %q: %w", s, err)
		}
		r.name, r.version = name, version
		return r, nil
	}
	r.path = body
	return r, nil
}

// FileRef returns a reference to the file at path, taken literally: no
// "#sha256=" suffix and no "name@version" form is recognised, so any
// file name works, and nothing about it can make FileRef fail or panic.
// Use it for paths from flags, configuration and directory listings; pin
// a digest with WithDigest. An empty path fails at Load with ErrNotFound.
func FileRef(path string) Ref {
	return Ref{raw: path, path: path}
}

// isRegistryName reports whether s can name a module in a registry.
func isRegistryName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
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

// Path returns the file path of a path reference, or "" for a registry
// reference.
func (r Ref) Path() string { return r.path }

// Registry returns the module name and version constraint of a registry
// reference, and ok == false for a path reference.
func (r Ref) Registry() (name, version string, ok bool) {
	return r.name, r.version, r.name != ""
}

// Digest returns the pinned SHA-256 digest in lower-case hex, or "".
func (r Ref) Digest() string { return r.digest }

// Resolution is where a Resolver found a module.
type Resolution struct {
	// Path is the file to load.
	Path string
	// Digest is the SHA-256 the file must have, in hex, when the resolver
	// knows it (a registry manifest does), or "". The runtime enforces it
	// on the bytes it actually opens, like a digest pinned in the Ref.
	Digest string
	// Sandbox is what the module declares it needs of a sandbox (a
	// registry manifest's "sandbox"), or nil.
	Sandbox *Sandbox
}

// Resolver turns a module reference into a file to load. It is consulted
// by Load and Reload; implementations must be safe for concurrent use. A
// reference that does not resolve yields an error wrapping ErrNotFound that
// says where it looked. Whatever a resolver returns, the runtime copies the
// file privately, verifies the digest (from the Ref and from the
// Resolution) on the copy and opens the copy, so a resolver that fetches
// files (from an artifact store, say) gets the same verification.
type Resolver interface {
	Resolve(ref Ref) (Resolution, error)
}

// LocalResolver resolves path references against a directory and registry
// references through a Registry.
type LocalResolver struct {
	// Dir is the directory relative paths are resolved against. Empty means
	// the process's working directory at the time of the call.
	Dir string
	// Registry resolves "name@version" references. Nil means a Registry in
	// the directory named by the MEMLINK_REGISTRY environment variable,
	// read at the time of the call; when that is unset too, registry
	// references are not found.
	Registry *Registry
}

// EnvRegistry names the environment variable LocalResolver reads for the
// registry directory when it has no Registry of its own.
const EnvRegistry = "MEMLINK_REGISTRY"

// Resolve returns the absolute path of ref, or an error wrapping
// ErrNotFound when no file exists there.
func (l LocalResolver) Resolve(ref Ref) (Resolution, error) { return l.resolve(ref, true) }

// resolve is Resolve; with look unset it does not look whether a file
// exists at the path: Load's own open of the file reports a missing one
// (with the same error), and the look cost it a system call.
func (l LocalResolver) resolve(ref Ref, look bool) (Resolution, error) {
	if ref.IsZero() {
		return Resolution{}, fmt.Errorf("%w: empty reference", ErrNotFound)
	}
	if _, _, ok := ref.Registry(); ok {
		reg := l.Registry
		if reg == nil {
			dir := os.Getenv(EnvRegistry)
			if dir == "" {
				return Resolution{}, fmt.Errorf("%w: %s is a registry reference, but no registry is configured (set %s or memlink.WithRegistry)",
					ErrNotFound, ref, EnvRegistry)
			}
			reg = &Registry{Dir: dir}
		}
		return reg.Resolve(ref)
	}
	p := ref.path
	if !filepath.IsAbs(p) && l.Dir != "" {
		p = filepath.Join(l.Dir, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return Resolution{}, fmt.Errorf("%w: %s: %v", ErrNotFound, ref.path, err)
	}
	if !look {
		return Resolution{Path: abs}, nil
	}
	if _, err := os.Stat(abs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Resolution{}, fmt.Errorf("%w: no file at %s", ErrNotFound, abs)
		}
		return Resolution{}, fmt.Errorf("%w: %s: %v", ErrInvalidModule, abs, err)
	}
	return Resolution{Path: abs}, nil
}
