package modbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/memlink/memlink-go/modules"
)

// ErrNoRust is returned, wrapped, when no Rust toolchain (cargo and rustc)
// is found, or when it cannot build for the requested target.
var ErrNoRust = errors.New("modbuild: no Rust toolchain found")

// rustKeyVersion is mixed into every Rust cache key; change it when the
// way crates are built changes.
const rustKeyVersion = "memlink-modbuild-rust/1"

// rustWorkDir is the directory, inside a BuildRust output directory, that
// holds the copies of the workspace sources and cargo's target directory.
const rustWorkDir = ".rust"

// RustToolchain is the cargo and rustc that build Rust modules.
type RustToolchain struct {
	// Cargo and Rustc are the commands, as absolute paths.
	Cargo, Rustc string
	// Version is the output of "rustc -vV": release, commit, host, LLVM.
	Version string
	// Host is rustc's host triple, such as x86_64-unknown-linux-gnu.
	Host string
}

// Release returns the rustc release, such as "1.95.0", or "" if unknown.
func (tc RustToolchain) Release() string {
	return vvField(tc.Version, "release")
}

func vvField(vv, name string) string {
	for _, line := range strings.Split(vv, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// FindRust returns the Rust toolchain to build modules with: cargo from
// the CARGO environment variable, else cargo on PATH, else
// ~/.cargo/bin/cargo (where rustup puts it); rustc from RUSTC, else the
// rustc beside that cargo, else rustc on PATH. Errors wrap [ErrNoRust] and
// say how to install a toolchain.
func FindRust() (RustToolchain, error) {
	cargo, err := findTool("CARGO", "cargo")
	if err != nil {
		return RustToolchain{}, err
	}
	rustc := os.Getenv("RUSTC")
	if rustc == "" {
		beside := filepath.Join(filepath.Dir(cargo), "rustc"+exeSuffix())
		if _, err := os.Stat(beside); err == nil {
			rustc = beside
		}
	}
	if rustc == "" {
		if rustc, err = findTool("RUSTC", "rustc"); err != nil {
			return RustToolchain{}, err
		}
	}
	out, err := exec.Command(rustc, "-vV").Output()
	if err != nil {
		return RustToolchain{}, fmt.Errorf("%w: %s -vV: %v\n%s", ErrNoRust, rustc, err, rustHint())
	}
	tc := RustToolchain{Cargo: cargo, Rustc: rustc, Version: strings.TrimSpace(string(out))}
	tc.Host = vvField(tc.Version, "host")
	if tc.Host == "" {
		return RustToolchain{}, fmt.Errorf("%w: %s -vV names no host triple", ErrNoRust, rustc)
	}
	return tc, nil
}

// findTool finds a program named by the environment variable env, else
// name on PATH, else in ~/.cargo/bin.
func findTool(env, name string) (string, error) {
	if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		p, err := exec.LookPath(v)
		if err != nil {
			return "", fmt.Errorf("%w: %s=%q: %v\n%s", ErrNoRust, env, v, err, rustHint())
		}
		return filepath.Abs(p)
	}
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cargo", "bin", name+exeSuffix())
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not set, and %s is neither on PATH nor in ~/.cargo/bin\n%s", ErrNoRust, env, name, rustHint())
}

func exeSuffix() string {
	if HostTarget().GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// rustHint tells how to get a Rust toolchain.
func rustHint() string {
	return "To build the Rust modules, install Rust 1.63 or newer: rustup (https://rustup.rs), or Debian/Ubuntu: apt-get install cargo (or rustc-web cargo-web); or set CARGO and RUSTC."
}

// rustArch maps GOARCH to the architecture part of a Rust target triple.
var rustArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7"}

// RustTriple returns the Rust target triple for t, as cargo's --target
// takes it: the MinGW flavour (-gnu) on Windows, gnueabihf for linux/arm.
func RustTriple(t Target) (string, error) {
	arch, ok := rustArch[t.GOARCH]
	if !ok {
		return "", fmt.Errorf("%w: no Rust target known for %s", ErrNoRust, t)
	}
	switch t.GOOS {
	case "linux":
		if t.GOARCH == "arm" {
			return arch + "-unknown-linux-gnueabihf", nil
		}
		return arch + "-unknown-linux-gnu", nil
	case "darwin":
		return arch + "-apple-darwin", nil
	case "windows":
		return arch + "-pc-windows-gnu", nil
	case "freebsd":
		return arch + "-unknown-freebsd", nil
	}
	return "", fmt.Errorf("%w: no Rust target known for %s", ErrNoRust, t)
}

// rustOS maps GOOS to the part of a Rust target triple after the
// architecture, without the ABI flavour (gnu, msvc).
var rustOS = map[string]string{"linux": "unknown-linux-", "darwin": "apple-darwin", "windows": "pc-windows-", "freebsd": "unknown-freebsd"}

// rustTarget returns the --target to pass for t: "" when t is the host and
// rustc's host is t (cargo's default, whatever its flavour, such as -msvc
// on Windows), else [RustTriple].
func (tc RustToolchain) rustTarget(t Target) (string, error) {
	triple, err := RustTriple(t)
	if err != nil {
		return "", err
	}
	if t == HostTarget() && strings.HasPrefix(tc.Host, rustArch[t.GOARCH]+"-"+rustOS[t.GOOS]) {
		return "", nil
	}
	return triple, nil
}

// HasTarget reports, with the reason when not, whether the toolchain can
// build for t: the host, or a target whose standard library is installed
// (rustup target add TRIPLE).
func (tc RustToolchain) HasTarget(t Target) error {
	triple, err := tc.rustTarget(t)
	if err != nil || triple == "" {
		return err
	}
	out, err := exec.Command(tc.Rustc, "--print", "sysroot").Output()
	if err != nil {
		return fmt.Errorf("%w: %s --print sysroot: %v", ErrNoRust, tc.Rustc, err)
	}
	lib := filepath.Join(strings.TrimSpace(string(out)), "lib", "rustlib", triple, "lib")
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("%w for %s: the standard library for %s is not installed (rustup target add %s)", ErrNoRust, t, triple, triple)
	}
	return nil
}

// rustSources returns the embedded workspace files, paths relative to the
// workspace, in path order.
func rustSources() ([]string, map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(modules.RustSource, modules.RustSourceDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(modules.RustSource, p)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(p, modules.RustSourceDir+"/")] = b
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, files, nil
}

// rustCacheKey hashes what a Rust module library depends on: the
// workspace sources, the toolchain, the target and the module.
func rustCacheKey(tc RustToolchain, target string, names []string, files map[string][]byte, m modules.RustModule) string {
	h := sha256.New()
	field := func(b []byte) {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	field([]byte(rustKeyVersion))
	field([]byte(tc.Version))
	field([]byte(target))
	field([]byte(m.Package))
	field([]byte(m.Lib))
	for _, n := range names {
		field([]byte(n))
		field(files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// rustLibName returns the file cargo writes for a cdylib named lib.
func rustLibName(t Target, lib string) string {
	if t.GOOS == "windows" {
		return lib + ".dll"
	}
	return "lib" + lib + t.Ext()
}

// BuildRust builds the named Rust modules of [modules.RustModules] (all of
// them when no name is given) for target t into dir with the toolchain
// found by [FindRust], and reports their paths like [BuildAll].
//
// It runs "cargo build --release --offline --locked" on a copy of the
// embedded workspace, with cargo's target directory in dir/.rust, so a
// rebuild after a change compiles only what changed. Each library has a
// key file (its name plus ".key") holding a hash of the workspace sources,
// "rustc -vV" and the target; a library whose key is unchanged is not
// built again. For a target other than the host, cargo gets --target and,
// as linker, the C compiler [FindCompiler] finds for that target.
func BuildRust(ctx context.Context, dir string, t Target, names ...string) (Report, error) {
	tc, err := FindRust()
	if err != nil {
		return Report{}, err
	}
	return buildRust(ctx, tc, dir, t, names)
}

func buildRust(ctx context.Context, tc RustToolchain, dir string, t Target, names []string) (Report, error) {
	rep := Report{Paths: map[string]string{}, Compiler: tc.Cargo + " (rustc " + tc.Release() + ")", Warnings: map[string]string{}}
	var mods []modules.RustModule
	if len(names) == 0 {
		mods = modules.RustModules()
	}
	for _, n := range names {
		m, ok := modules.LookupRust(n)
		if !ok {
			return rep, fmt.Errorf("modbuild: unknown Rust module %q", n)
		}
		mods = append(mods, m)
	}
	if err := tc.HasTarget(t); err != nil {
		return rep, err
	}
	target, err := tc.rustTarget(t)
	if err != nil {
		return rep, err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return rep, fmt.Errorf("modbuild: %w", err)
	}
	srcNames, files, err := rustSources()
	if err != nil {
		return rep, fmt.Errorf("modbuild: embedded Rust sources: %w", err)
	}

	type job struct {
		m        modules.RustModule
		out, key string
	}
	var stale []job
	for _, m := range mods {
		out := filepath.Join(absDir, t.FileName(m.Name))
		key := rustCacheKey(tc, target, srcNames, files, m)
		rep.Paths[m.Name] = out
		if old, err := os.ReadFile(out + keyExt); err == nil && strings.TrimSpace(string(old)) == key {
			if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
				continue
			}
		}
		stale = append(stale, job{m, out, key})
	}
	if len(stale) == 0 {
		return rep, nil
	}

	// The sources go to a directory named by their hash, written once: a
	// concurrent build of the same sources uses the same copy, and cargo's
	// fingerprints (which include the package paths) stay valid across
	// runs. cargo locks the target directory itself.
	work := filepath.Join(absDir, rustWorkDir)
	src, err := writeRustSources(work, srcNames, files)
	if err != nil {
		return rep, err
	}
	targetDir := filepath.Join(work, "target")
	args := []string{"build", "--release", "--offline", "--locked",
		"--manifest-path", filepath.Join(src, "Cargo.toml"), "--target-dir", targetDir}
	if target != "" {
		args = append(args, "--target", target)
	}
	for _, j := range stale {
		args = append(args, "-p", j.m.Package)
	}
	cmd := exec.CommandContext(ctx, tc.Cargo, args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "RUSTC="+tc.Rustc, "CARGO_TERM_COLOR=never")
	if target != "" {
		if cc, err := FindCompiler(t); err == nil {
			env := "CARGO_TARGET_" + strings.ToUpper(strings.ReplaceAll(target, "-", "_")) + "_LINKER"
			cmd.Env = append(cmd.Env, env+"="+strings.Fields(cc)[0])
		}
	}
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return Report{}, fmt.Errorf("modbuild: cargo build for %s: %w\n%s", t, err, strings.TrimSpace(output.String()))
	}
	if w := cargoWarnings(output.String()); w != "" {
		for _, j := range stale {
			rep.Warnings[j.m.Name] = w
		}
	}
	built := filepath.Join(targetDir, target, "release")
	for _, j := range stale {
		if err := installLib(filepath.Join(built, rustLibName(t, j.m.Lib)), j.out, j.key); err != nil {
			return Report{}, fmt.Errorf("modbuild: Rust module %s: %w", j.m.Name, err)
		}
		rep.Built = append(rep.Built, j.m.Name)
	}
	slices.Sort(rep.Built)
	return rep, nil
}

// cargoWarnings returns the lines of cargo's output that are about
// warnings, or "".
func cargoWarnings(out string) string {
	if !strings.Contains(out, "warning:") {
		return ""
	}
	return strings.TrimSpace(out)
}

// writeRustSources writes the workspace into work/src-<hash> unless it is
// there already, and returns that directory.
func writeRustSources(work string, names []string, files map[string][]byte) (string, error) {
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%d:%s%d:", len(n), n, len(files[n]))
		h.Write(files[n])
	}
	src := filepath.Join(work, "src-"+hex.EncodeToString(h.Sum(nil))[:16])
	if st, err := os.Stat(filepath.Join(src, "Cargo.toml")); err == nil && st.Mode().IsRegular() {
		return src, nil
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}
	tmp, err := os.MkdirTemp(work, ".tmp-src-")
	if err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}
	for _, n := range names {
		p := filepath.Join(tmp, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("modbuild: %w", err)
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("modbuild: %w", err)
		}
	}
	if err := os.Rename(tmp, src); err != nil {
		os.RemoveAll(tmp)
		// Another build put the same sources there first.
		if st, err2 := os.Stat(filepath.Join(src, "Cargo.toml")); err2 == nil && st.Mode().IsRegular() {
			return src, nil
		}
		return "", fmt.Errorf("modbuild: %w", err)
	}
	return src, nil
}

// installLib copies the library cargo built to out (through a temporary
// name, so that no reader sees a partial file) and then writes its key.
func installLib(built, out, key string) error {
	in, err := os.Open(built)
	if err != nil {
		return err
	}
	defer in.Close()
	dir := filepath.Dir(out)
	tmp := filepath.Join(dir, tempName(filepath.Base(out)))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	tmpKey := filepath.Join(dir, tempName(filepath.Base(out)+keyExt))
	if err := os.WriteFile(tmpKey, []byte(key+"\n"), 0o644); err != nil {
		os.Remove(tmpKey)
		return err
	}
	if err := os.Rename(tmpKey, out+keyExt); err != nil {
		os.Remove(tmpKey)
		return err
	}
	return nil
}

// DefaultRustCacheDir returns the directory where Rust module libraries
// (and cargo's build cache) for the host are kept between runs:
// <user cache dir>/memlink-go/rust/<goos>_<goarch>.
func DefaultRustCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("modbuild: %w", err)
	}
	t := HostTarget()
	return filepath.Join(base, "memlink-go", "rust", t.GOOS+"_"+t.GOARCH), nil
}
