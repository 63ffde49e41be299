package modbuild

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/memlink/memlink-go/modules"
)

// keyVersion is mixed into every cache key; change it when the way modules
// are compiled changes, so that old outputs are rebuilt.
const keyVersion = "memlink-modbuild/1"

// keyExt is appended to an output's file name to name its cache key file.
const keyExt = ".key"

// Report describes what [BuildAll] did.
type Report struct {
	// Paths maps each module name to the absolute path of its library.
	Paths map[string]string
	// Built lists, sorted, the modules that were compiled by this call;
	// the others were already up to date.
	Built []string
	// Compiler is the compiler command that was used (or would have been,
	// had anything needed building).
	Compiler string
	// Warnings maps the name of each module compiled by this call whose
	// compiler printed anything (warnings, usually) to that output. The
	// modules are meant to compile silently.
	Warnings map[string]string
}

// Compile compiles module m for target t with the compiler command cc and
// writes the shared library to outPath. The module's source and the ABI
// header are taken from [modules.Source]. The compiler runs as
//
//	cc -shared -O2 -std=c11 -Wall -Wextra [-fPIC] [-DNAME...] -o outPath src.c
//
// with -fPIC left out for windows. On failure the error includes the
// compiler's output.
func Compile(ctx context.Context, cc string, t Target, m modules.Module, outPath string) error {
	src, err := fs.ReadFile(modules.Source, m.SourcePath())
	if err != nil {
		return fmt.Errorf("modbuild: module %q: %w", m.Name, err)
	}
	_, err = compileSource(ctx, cc, t, m.Name, m.Source, src, m.Defines, outPath)
	return err
}

// headers returns the embedded C headers (memlink.h and the modules'
// shared helpers), keyed by file name.
func headers() (map[string][]byte, error) {
	names, err := fs.Glob(modules.Source, path.Join(modules.SourceDir, "*.h"))
	if err != nil {
		return nil, err
	}
	hs := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(modules.Source, n)
		if err != nil {
			return nil, err
		}
		hs[path.Base(n)] = b
	}
	if _, ok := hs[modules.Header]; !ok {
		return nil, fmt.Errorf("embedded sources lack %s", modules.Header)
	}
	return hs, nil
}

// header returns every embedded header, names and contents in name order,
// as one byte string: what the cache key covers.
func header() ([]byte, error) {
	hs, err := headers()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, "%s\x00%d\x00", n, len(hs[n]))
		b.Write(hs[n])
	}
	return b.Bytes(), nil
}

// compileFlags returns the compiler arguments that come before -o.
func compileFlags(t Target, defines []string) []string {
	flags := []string{"-shared", "-O2", "-std=c11", "-Wall", "-Wextra"}
	if t.GOOS != "windows" {
		flags = append(flags, "-fPIC")
	}
	for _, d := range defines {
		flags = append(flags, "-D"+d)
	}
	return flags
}

// compileSource writes src as srcName, next to the ABI header, in a
// temporary directory and compiles it into outPath. name labels errors.
// It returns what the compiler printed.
func compileSource(ctx context.Context, cc string, t Target, name, srcName string, src []byte, defines []string, outPath string) (string, error) {
	words := strings.Fields(cc)
	if len(words) == 0 {
		return "", fmt.Errorf("modbuild: compiling module %s: %w: empty compiler command", name, ErrNoCompiler)
	}
	if srcName != filepath.Base(srcName) || !strings.HasSuffix(srcName, ".c") {
		return "", fmt.Errorf("modbuild: bad source file name %q", srcName)
	}
	hdrs, err := headers()
	if err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}
	out, err := filepath.Abs(outPath)
	if err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}
	tmp, err := os.MkdirTemp("", "memlink-modbuild-*")
	if err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}
	defer os.RemoveAll(tmp)
	for name, b := range hdrs {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return "", fmt.Errorf("modbuild: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, srcName), src, 0o644); err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}

	args := append(slices.Clone(words[1:]), compileFlags(t, defines)...)
	args = append(args, "-o", out, srcName)
	cmd := exec.CommandContext(ctx, words[0], args...)
	cmd.Dir = tmp
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	err = cmd.Run()
	msg := strings.TrimSpace(output.String())
	if err != nil {
		if msg == "" {
			return "", fmt.Errorf("modbuild: compiling module %s (%s) for %s with %s: %w", name, srcName, t, cc, err)
		}
		return "", fmt.Errorf("modbuild: compiling module %s (%s) for %s with %s: %w\n%s", name, srcName, t, cc, err, msg)
	}
	return msg, nil
}

// cacheKey returns the hex SHA-256 of everything that determines the
// library built from src: the source, the header, the definitions, the
// compiler command and flags, and the target.
func cacheKey(cc string, t Target, src, hdr []byte, defines []string) string {
	h := sha256.New()
	field := func(b []byte) {
		// Length-prefix every field so that no two inputs collide by
		// shifting bytes from one field into the next.
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(keyVersion))
	field(src)
	field(hdr)
	field([]byte(cc))
	field([]byte(t.GOOS))
	field([]byte(t.GOARCH))
	flags := compileFlags(t, defines)
	for _, f := range flags {
		field([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// BuildAll compiles every module of [modules.All] for target t into dir,
// which is created if missing, using the compiler found by [FindCompiler].
// Modules are compiled in parallel, at most runtime.NumCPU at a time.
//
// Each library is accompanied by a key file (its name plus ".key") holding
// a hash of its source, the ABI header, its definitions, the compiler
// command and the target; a module whose library exists and whose key is
// unchanged is not compiled again. Libraries are written to a temporary
// name in dir and renamed into place, so a reader never sees a partial one.
//
// If some modules fail to compile, BuildAll still builds the others and
// returns an error joining every failure along with a report of what was
// built.
func BuildAll(ctx context.Context, dir string, t Target) (Report, error) {
	cc, err := FindCompiler(t)
	if err != nil {
		return Report{}, err
	}
	return buildAll(ctx, dir, t, cc, modules.All())
}

// Build is BuildAll for the named modules only (names from
// modules.All). An unknown name is an error.
func Build(ctx context.Context, dir string, t Target, names ...string) (Report, error) {
	mods := make([]modules.Module, 0, len(names))
	for _, n := range names {
		m, ok := modules.Lookup(n)
		if !ok {
			return Report{}, fmt.Errorf("modbuild: unknown module %q", n)
		}
		mods = append(mods, m)
	}
	cc, err := FindCompiler(t)
	if err != nil {
		return Report{}, err
	}
	return buildAll(ctx, dir, t, cc, mods)
}

// buildAll is BuildAll with the compiler and module list given.
func buildAll(ctx context.Context, dir string, t Target, cc string, mods []modules.Module) (Report, error) {
	rep := Report{Paths: make(map[string]string, len(mods)), Compiler: cc, Warnings: map[string]string{}}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return rep, fmt.Errorf("modbuild: %w", err)
	}
	if err := os.MkdirAll(absDir, 0o755); err != nil {
		return rep, fmt.Errorf("modbuild: %w", err)
	}
	hdr, err := header()
	if err != nil {
		return rep, fmt.Errorf("modbuild: %w", err)
	}
	seen := make(map[string]bool, len(mods))
	for _, m := range mods {
		if m.Name == "" || m.Name != filepath.Base(m.Name) || seen[m.Name] {
			return rep, fmt.Errorf("modbuild: bad or repeated module name %q", m.Name)
		}
		seen[m.Name] = true
	}

	type result struct {
		name     string
		path     string
		built    bool
		warnings string
		err      error
	}
	results := make([]result, len(mods))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, m := range mods {
		results[i].name = m.Name
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i].err = fmt.Errorf("modbuild: %s: %w", m.Name, ctx.Err())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := &results[i]
			r.path, r.built, r.warnings, r.err = buildOne(ctx, absDir, t, cc, hdr, m)
		}()
	}
	wg.Wait()

	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		rep.Paths[r.name] = r.path
		if r.built {
			rep.Built = append(rep.Built, r.name)
		}
		if r.warnings != "" {
			rep.Warnings[r.name] = r.warnings
		}
	}
	slices.Sort(rep.Built)
	return rep, errors.Join(errs...)
}

// buildOne brings one module's library in dir up to date and reports its
// path, whether it had to be compiled, and what the compiler printed.
func buildOne(ctx context.Context, dir string, t Target, cc string, hdr []byte, m modules.Module) (string, bool, string, error) {
	src, err := fs.ReadFile(modules.Source, m.SourcePath())
	if err != nil {
		return "", false, "", fmt.Errorf("modbuild: module %q: %w", m.Name, err)
	}
	out := filepath.Join(dir, t.FileName(m.Name))
	keyPath := out + keyExt
	key := cacheKey(cc, t, src, hdr, m.Defines)
	if old, err := os.ReadFile(keyPath); err == nil && strings.TrimSpace(string(old)) == key {
		if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			return out, false, "", nil
		}
	}

	tmpOut := filepath.Join(dir, tempName(t.FileName(m.Name)))
	warnings, err := compileSource(ctx, cc, t, m.Name, m.Source, src, m.Defines, tmpOut)
	if err != nil {
		os.Remove(tmpOut)
		return "", false, "", err
	}
	if err := os.Rename(tmpOut, out); err != nil {
		os.Remove(tmpOut)
		return "", false, "", fmt.Errorf("modbuild: module %s: %w", m.Name, err)
	}
	// The key is written last: if this fails or is interrupted, the next
	// build sees a stale key and compiles again.
	tmpKey := filepath.Join(dir, tempName(filepath.Base(keyPath)))
	if err := os.WriteFile(tmpKey, []byte(key+"\n"), 0o644); err != nil {
		os.Remove(tmpKey)
		return "", false, "", fmt.Errorf("modbuild: module %s: %w", m.Name, err)
	}
	if err := os.Rename(tmpKey, keyPath); err != nil {
		os.Remove(tmpKey)
		return "", false, "", fmt.Errorf("modbuild: module %s: %w", m.Name, err)
	}
	return out, true, warnings, nil
}

// tempName returns a hidden, unique file name that ends like name.
func tempName(name string) string {
	var r [8]byte
	rand.Read(r[:])
	return ".tmp-" + hex.EncodeToString(r[:]) + "-" + name
}

// DefaultCacheDir returns the directory where libraries for the host
// target are cached between runs:
// <user cache dir>/memlink-go/modules/<goos>_<goarch>.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}
	t := HostTarget()
	return filepath.Join(base, "memlink-go", "modules", t.GOOS+"_"+t.GOARCH), nil
}
