package modtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/memlink/memlink-go/internal/modbuild"
	"github.com/memlink/memlink-go/modules"
)

// EnvModules is the environment variable that names a directory of
// prebuilt modules to use instead of compiling them.
const EnvModules = "MEMLINK_TEST_MODULES"

// compileTimeout bounds the compilation of one module.
const compileTimeout = 2 * time.Minute

var (
	compilerOnce sync.Once
	compiler     string
	compilerErr  error

	// mu guards cacheDir, cacheErr and builds.
	mu       sync.Mutex
	cacheDir string
	cacheErr error
	builds   = map[string]*build{}
)

// build is one module compiled into the process cache directory.
type build struct {
	once sync.Once
	path string
	err  error
}

// Main runs the tests of m, removes the modules compiled for them, and
// exits with the tests' exit code. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(run(m))
}

// run runs m's tests and removes the process cache directory.
func run(m *testing.M) int {
	code := m.Run()
	cleanup()
	return code
}

// cleanup removes the process cache directory, if one was made.
func cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if cacheDir != "" {
		os.RemoveAll(cacheDir)
	}
	cacheDir, cacheErr = "", nil
	builds = map[string]*build{}
}

// Path returns the absolute path of a private copy of module name, built
// for the host, in tb.TempDir(). Every call returns a new file. It fails
// the test if the module is unknown or cannot be built or copied.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	return copyModule(tb, tb.TempDir(), name)
}

// Dir puts private copies of the named modules, built for the host, in a
// new directory from tb.TempDir() and returns that directory. The files are
// named as modbuild.Target.FileName gives, such as echo.so.
func Dir(tb testing.TB, names ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, name := range names {
		copyModule(tb, dir, name)
	}
	return dir
}

// copyModule copies module name into dir and returns the copy's path.
func copyModule(tb testing.TB, dir, name string) string {
	tb.Helper()
	file := modbuild.HostTarget().FileName(name)
	var src string
	if prebuilt := os.Getenv(EnvModules); prebuilt != "" {
		src = filepath.Join(prebuilt, file)
		if _, err := os.Stat(src); err != nil {
			tb.Fatalf("modtest: module %q: %s=%s has no %s: %v", name, EnvModules, prebuilt, file, err)
		}
	} else {
		var err error
		src, err = compiled(name)
		if err != nil {
			tb.Fatalf("modtest: %v", err)
		}
	}
	dst, err := filepath.Abs(filepath.Join(dir, file))
	if err != nil {
		tb.Fatalf("modtest: %v", err)
	}
	if err := copyFile(dst, src); err != nil {
		tb.Fatalf("modtest: module %q: %v", name, err)
	}
	return dst
}

// compiled returns the path of module name in the process cache directory,
// compiling it on first use.
func compiled(name string) (string, error) {
	m, ok := modules.Lookup(name)
	if !ok {
		return "", fmt.Errorf("unknown module %q", name)
	}
	dir, err := processCacheDir()
	if err != nil {
		return "", err
	}
	mu.Lock()
	b := builds[name]
	if b == nil {
		b = &build{}
		builds[name] = b
	}
	mu.Unlock()

	b.once.Do(func() {
		cc, err := findCompiler()
		if err != nil {
			// The error says how to install a compiler and mentions
			// MEMLINK_TEST_MODULES.
			b.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), compileTimeout)
		defer cancel()
		out := filepath.Join(dir, modbuild.HostTarget().FileName(name))
		if err := modbuild.Compile(ctx, cc, modbuild.HostTarget(), m, out); err != nil {
			b.err = err
			return
		}
		b.path = out
	})
	return b.path, b.err
}

// findCompiler looks up the host compiler once per process.
func findCompiler() (string, error) {
	compilerOnce.Do(func() {
		compiler, compilerErr = modbuild.FindCompiler(modbuild.HostTarget())
	})
	return compiler, compilerErr
}

// processCacheDir returns this process's directory of compiled modules,
// creating it on first use.
func processCacheDir() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if cacheDir == "" && cacheErr == nil {
		cacheDir, cacheErr = os.MkdirTemp("", fmt.Sprintf("memlink-modtest-%d-", os.Getpid()))
	}
	return cacheDir, cacheErr
}

// copyFile copies src to a new file dst, readable and executable.
func copyFile(dst, src string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}

// Shared returns the path of module name built for the host, shared by
// every caller in this process (or taken from MEMLINK_TEST_MODULES). It is
// for Example functions, which have no testing.TB; tests use Path, whose
// private copies keep one test's module state away from another's.
func Shared(name string) (string, error) {
	if prebuilt := os.Getenv(EnvModules); prebuilt != "" {
		p := filepath.Join(prebuilt, modbuild.HostTarget().FileName(name))
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("modtest: module %q: %s=%s: %w", name, EnvModules, prebuilt, err)
		}
		return p, nil
	}
	return compiled(name)
}
