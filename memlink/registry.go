package memlink

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/memlink/memlink-go/internal/plainfile"
)

// Registry is a local module registry: a directory laid out as
// <name>/<version>/, each version directory holding a manifest.json that
// names the module file for every platform it was built for, with the
// file's SHA-256:
//
//	{"name": "echo", "version": "1.2.0",
//	 "modules": {"linux/amd64": {"file": "echo.so", "sha256": "…"}}}
//
// Registry implements Resolver for "name@version" references. The digest
// of the manifest is enforced on the bytes loaded, so a module file
// tampered with after publication is refused with ErrDigestMismatch.
type Registry struct {
	// Dir is the registry's root directory.
	Dir string
}

// ManifestFile is the name of a version directory's manifest.
const ManifestFile = "manifest.json"

// Manifest describes one version of a module in a Registry.
type Manifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Modules maps "GOOS/GOARCH" to the module file built for it.
	Modules map[string]ManifestModule `json:"modules"`
	// Sandbox, when present, declares what the module needs of a
	// sandbox: loaded with an Isolation.Sandbox that grants less, it is
	// refused with ErrSandboxTooNarrow (see Sandbox.covers).
	Sandbox *Sandbox `json:"sandbox,omitempty"`
}

// ManifestModule is one platform's file in a Manifest.
type ManifestModule struct {
	// File is the file's name within the version directory.
	File string `json:"file"`
	// SHA256 is the file's SHA-256 in hex.
	SHA256 string `json:"sha256"`
}

// maxManifest bounds the size of a manifest read from disk.
const maxManifest = 1 << 20

// ParseManifest parses and validates a manifest: a registry name, a
// MAJOR.MINOR.PATCH version, at least one module, platform keys of the form
// GOOS/GOARCH, plain file names (no directories) and 64-digit hex digests.
//
// The JSON is read strictly, so that what a reviewer reads is what is
// loaded: keys match in exact case, a key repeated in any object is
// refused (encoding/json would keep the last, and match "FILE" for
// "file"), unknown keys are refused rather than ignored (a field this
// version does not know, such as a policy added later, must not be
// dropped silently), every value has the type its field needs (null
// included), the input is valid UTF-8, and nothing but white space may
// follow the object.
func ParseManifest(b []byte) (Manifest, error) {
	m, err := parseManifestJSON(b)
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	if !isRegistryName(m.Name) {
		return Manifest{}, fmt.Errorf("manifest: invalid module name %q", m.Name)
	}
	if _, err := parseVersion(m.Version); err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	if len(m.Modules) == 0 {
		return Manifest{}, errors.New("manifest: no modules")
	}
	for plat, mod := range m.Modules {
		goos, goarch, ok := strings.Cut(plat, "/")
		if !ok || !isRegistryName(goos) || !isRegistryName(goarch) {
			return Manifest{}, fmt.Errorf("manifest: platform %q is not GOOS/GOARCH", plat)
		}
		if mod.File == "" || mod.File != filepath.Base(mod.File) || strings.ContainsAny(mod.File, `/\`) || mod.File == "." || mod.File == ".." {
			return Manifest{}, fmt.Errorf("manifest: %s: file %q must be a plain file name", plat, mod.File)
		}
		if d, err := hex.DecodeString(mod.SHA256); err != nil || len(d) != sha256.Size {
			return Manifest{}, fmt.Errorf("manifest: %s: sha256 %q is not 64 hex digits", plat, mod.SHA256)
		}
	}
	if m.Sandbox != nil {
		for _, p := range append(slices.Clone(m.Sandbox.Read), m.Sandbox.Write...) {
			if !filepath.IsAbs(p) {
				return Manifest{}, fmt.Errorf("manifest: sandbox path %q is not absolute", p)
			}
		}
	}
	return m, nil
}

// parseManifestJSON reads the manifest's JSON strictly (see
// ParseManifest). Each object's fields are listed with the function that
// reads their value: a new field is one more entry.
func parseManifestJSON(b []byte) (Manifest, error) {
	if !utf8.Valid(b) {
		return Manifest{}, errors.New("not valid UTF-8")
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	err := readObject(dec, "", map[string]func() error{
		"name":    func() (err error) { m.Name, err = readString(dec, "name"); return err },
		"version": func() (err error) { m.Version, err = readString(dec, "version"); return err },
		"modules": func() error {
			m.Modules = map[string]ManifestModule{}
			return readMap(dec, "modules", func(plat string) error {
				var mod ManifestModule
				where := "modules." + plat
				err := readObject(dec, where, map[string]func() error{
					"file":   func() (err error) { mod.File, err = readString(dec, where+".file"); return err },
					"sha256": func() (err error) { mod.SHA256, err = readString(dec, where+".sha256"); return err },
				})
				m.Modules[plat] = mod
				return err
			})
		},
		"sandbox": func() error {
			m.Sandbox = &Sandbox{}
			return readObject(dec, "sandbox", map[string]func() error{
				"read":    func() (err error) { m.Sandbox.Read, err = readStrings(dec, "sandbox.read"); return err },
				"write":   func() (err error) { m.Sandbox.Write, err = readStrings(dec, "sandbox.write"); return err },
				"network": func() (err error) { m.Sandbox.Network, err = readBool(dec, "sandbox.network"); return err },
				"exec":    func() (err error) { m.Sandbox.Exec, err = readBool(dec, "sandbox.exec"); return err },
			})
		},
	})
	if err != nil {
		return Manifest{}, err
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("%v", tok)
		}
		return Manifest{}, fmt.Errorf("trailing data after the JSON object: %v", err)
	}
	return m, nil
}

// readObject reads a JSON object whose keys must be among fields (exact
// case, each at most once), calling each key's function to read its value.
// where names the object in errors ("" for the top level).
func readObject(dec *json.Decoder, where string, fields map[string]func() error) error {
	return readMap(dec, where, func(key string) error {
		read, ok := fields[key]
		if !ok {
			return fmt.Errorf("unknown key %q", join(where, key))
		}
		return read()
	})
}

// readMap reads a JSON object, calling value for each key (which must read
// the key's value) and refusing a key given twice.
func readMap(dec *json.Decoder, where string, value func(key string) error) error {
	if err := readDelim(dec, where, '{'); err != nil {
		return err
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%s: key %v is not a string", objName(where), tok)
		}
		if seen[key] {
			return fmt.Errorf("duplicate key %q", join(where, key))
		}
		seen[key] = true
		if err := value(key); err != nil {
			return err
		}
	}
	return readDelim(dec, where, '}')
}

func readDelim(dec *json.Decoder, where string, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", objName(where), err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		if want == '{' {
			return fmt.Errorf("%s: want an object, have %v", objName(where), tok)
		}
		return fmt.Errorf("%s: want %v, have %v", objName(where), want, tok)
	}
	return nil
}

// readString reads a JSON string (not null, not another type).
func readString(dec *json.Decoder, where string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	s, ok := tok.(string)
	if !ok {
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			return "", fmt.Errorf("%s: want a string, have an %s", where, map[json.Delim]string{'{': "object", '[': "array"}[d])
		}
		return "", fmt.Errorf("%s: want a string, have %v", where, tok)
	}
	return s, nil
}

// readStrings reads a JSON array of strings (not null).
func readStrings(dec *json.Decoder, where string) ([]string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%s: want an array of strings, have %v", where, tok)
	}
	list := []string{}
	for dec.More() {
		v, err := readString(dec, where)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return list, nil
}

// readBool reads a JSON true or false (not null, not another type).
func readBool(dec *json.Decoder, where string) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	v, ok := tok.(bool)
	if !ok {
		return false, fmt.Errorf("%s: want true or false, have %v", where, tok)
	}
	return v, nil
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func objName(where string) string {
	if where == "" {
		return "manifest object"
	}
	return where
}

// Resolve finds the highest version of the module matching ref's
// constraint that has a file for this platform, and returns its path and
// the digest its manifest records. Errors wrap ErrNotFound and say which
// directory was searched and what it holds.
func (r *Registry) Resolve(ref Ref) (Resolution, error) {
	name, constraint, ok := ref.Registry()
	if !ok {
		return Resolution{}, fmt.Errorf("%w: %s is not a registry reference", ErrNotFound, ref)
	}
	c, err := parseConstraint(constraint)
	if err != nil {
		return Resolution{}, fmt.Errorf("%w: %s: %v", ErrNotFound, ref, err)
	}
	dir := filepath.Join(r.Dir, name)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Resolution{}, fmt.Errorf("%w: %s: no module %q in registry %s", ErrNotFound, ref, name, r.Dir)
	}
	var have []version
	for _, de := range ents {
		if v, err := parseVersion(de.Name()); err == nil && de.IsDir() {
			have = append(have, v)
		}
	}
	slices.SortFunc(have, func(a, b version) int { return b.compare(a) }) // highest first
	var matching []version
	for _, v := range have {
		if c.matches(v) {
			matching = append(matching, v)
		}
	}
	if len(matching) == 0 {
		return Resolution{}, fmt.Errorf("%w: %s: no version matches %q in %s (have %s)", ErrNotFound, ref, constraint, dir, versionList(have))
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	var skipped []string
	for _, v := range matching {
		vdir := filepath.Join(dir, v.String())
		m, err := readManifest(filepath.Join(vdir, ManifestFile))
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", v, err))
			continue
		}
		if m.Name != name || m.Version != v.String() {
			skipped = append(skipped, fmt.Sprintf("%s: manifest names %s@%s", v, m.Name, m.Version))
			continue
		}
		mod, ok := m.Modules[platform]
		if !ok {
			plats := make([]string, 0, len(m.Modules))
			for p := range m.Modules {
				plats = append(plats, p)
			}
			slices.Sort(plats)
			skipped = append(skipped, fmt.Sprintf("%s: no module for %s (has %s)", v, platform, strings.Join(plats, ", ")))
			continue
		}
		return Resolution{Path: filepath.Join(vdir, mod.File), Digest: strings.ToLower(mod.SHA256), Sandbox: m.Sandbox.clone()}, nil
	}
	return Resolution{}, fmt.Errorf("%w: %s: no usable version in %s: %s", ErrNotFound, ref, dir, strings.Join(skipped, "; "))
}

// readManifest reads and parses a manifest. Like a module file, it must be
// a regular file (a FIFO or a device is refused without blocking) of
// bounded size.
func readManifest(path string) (Manifest, error) {
	b, err := plainfile.ReadFile(path, maxManifest)
	if err != nil {
		return Manifest{}, err
	}
	return ParseManifest(b)
}

// Publish adds version of module name to the registry for this platform
// (GOOS/GOARCH of the running program), copying the file at path into the
// version directory and writing (or extending) its manifest with the
// file's digest. It is meant for build scripts and tests.
func (r *Registry) Publish(name, ver, path string) error {
	if !isRegistryName(name) {
		return fmt.Errorf("memlink: publish: invalid module name %q", name)
	}
	if _, err := parseVersion(ver); err != nil {
		return fmt.Errorf("memlink: publish: %w", err)
	}
	vdir := filepath.Join(r.Dir, name, ver)
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return fmt.Errorf("memlink: publish: %w", err)
	}
	b, err := plainfile.ReadFile(path, DefaultMaxModuleSize)
	if err != nil {
		return fmt.Errorf("memlink: publish: %w", err)
	}
	file := filepath.Base(path)
	if err := os.WriteFile(filepath.Join(vdir, file), b, 0o644); err != nil {
		return fmt.Errorf("memlink: publish: %w", err)
	}
	sum := sha256.Sum256(b)
	m := Manifest{Name: name, Version: ver, Modules: map[string]ManifestModule{}}
	if old, err := readManifest(filepath.Join(vdir, ManifestFile)); err == nil {
		m.Modules = old.Modules
	}
	m.Modules[runtime.GOOS+"/"+runtime.GOARCH] = ManifestModule{File: file, SHA256: hex.EncodeToString(sum[:])}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("memlink: publish: %w", err)
	}
	if err := os.WriteFile(filepath.Join(vdir, ManifestFile), append(out, '\n'), 0o644); err != nil {
		return fmt.Errorf("memlink: publish: %w", err)
	}
	return nil
}

// version is a MAJOR.MINOR.PATCH version.
type version struct{ major, minor, patch int }

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }

func (v version) compare(o version) int {
	switch {
	case v.major != o.major:
		return cmpInt(v.major, o.major)
	case v.minor != o.minor:
		return cmpInt(v.minor, o.minor)
	}
	return cmpInt(v.patch, o.patch)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func versionList(vs []version) string {
	if len(vs) == 0 {
		return "none"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ", ")
}

// parseNumbers parses up to three dot-separated decimal numbers, without
// signs or leading zeros, returning how many were given.
func parseNumbers(s string) (nums [3]int, n int, err error) {
	if s == "" {
		return nums, 0, errors.New("empty version")
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return nums, 0, fmt.Errorf("version %q has more than three parts", s)
	}
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') || strings.TrimLeft(p, "0123456789") != "" || len(p) > 9 {
			return nums, 0, fmt.Errorf("version %q: %q is not a number", s, p)
		}
		nums[i], _ = strconv.Atoi(p)
	}
	return nums, len(parts), nil
}

func parseVersion(s string) (version, error) {
	nums, n, err := parseNumbers(s)
	if err != nil {
		return version{}, err
	}
	if n != 3 {
		return version{}, fmt.Errorf("version %q is not MAJOR.MINOR.PATCH", s)
	}
	return version{nums[0], nums[1], nums[2]}, nil
}

// constraint selects versions: exact, caret (compatible with), or latest.
type constraint struct {
	latest bool
	low    version
	high   version // exclusive; for exact, low == high and only low matches
	exact  bool
}

// parseConstraint parses "latest", "1.2.3" or "^1", "^1.2", "^1.2.3". A
// caret range follows the usual rule: ^1.2 is >=1.2.0 <2.0.0, ^0.3 is
// >=0.3.0 <0.4.0, ^0.0.3 is exactly 0.0.3's patch line (<0.0.4).
func parseConstraint(s string) (constraint, error) {
	if s == "latest" {
		return constraint{latest: true}, nil
	}
	if rest, ok := strings.CutPrefix(s, "^"); ok {
		nums, n, err := parseNumbers(rest)
		if err != nil {
			return constraint{}, err
		}
		low := version{nums[0], nums[1], nums[2]}
		var high version
		switch {
		case low.major > 0 || n == 1:
			high = version{low.major + 1, 0, 0}
		case low.minor > 0 || n == 2:
			high = version{0, low.minor + 1, 0}
		default:
			high = version{0, 0, low.patch + 1}
		}
		return constraint{low: low, high: high}, nil
	}
	v, err := parseVersion(s)
	if err != nil {
		return constraint{}, fmt.Errorf("%w (or use ^MAJOR[.MINOR] or latest)", err)
	}
	return constraint{low: v, high: v, exact: true}, nil
}

func (c constraint) matches(v version) bool {
	switch {
	case c.latest:
		return true
	case c.exact:
		return v == c.low
	}
	return v.compare(c.low) >= 0 && v.compare(c.high) < 0
}
