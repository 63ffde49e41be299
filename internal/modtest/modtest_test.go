package modtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/memlink/memlink-go/internal/modbuild"
)

func TestMain(m *testing.M) {
	code := run(m)
	// run must have removed the directory of compiled modules.
	leftovers, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("memlink-modtest-%d-*", os.Getpid())))
	if len(leftovers) > 0 {
		fmt.Fprintf(os.Stderr, "modtest: cache directories left behind: %v\n", leftovers)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func TestPath(t *testing.T) {
	host := modbuild.HostTarget()
	p1 := Path(t, "echo")
	p2 := Path(t, "echo")
	for _, p := range []string{p1, p2} {
		if !filepath.IsAbs(p) {
			t.Errorf("%s is not absolute", p)
		}
		if filepath.Ext(p) != host.Ext() {
			t.Errorf("%s does not end in %s", p, host.Ext())
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() == 0 {
			t.Errorf("%s is empty", p)
		}
	}
	if p1 == p2 {
		t.Errorf("two calls returned the same path %s", p1)
	}
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) {
		t.Error("two copies of echo differ")
	}
}

func TestPathVariants(t *testing.T) {
	v1, err := os.ReadFile(Path(t, "version_v1"))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := os.ReadFile(Path(t, "version_v2"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(v1, v2) {
		t.Error("version_v1 and version_v2 are the same file")
	}
}

func TestPathParallel(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(Path(t, "counter")); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestDir(t *testing.T) {
	host := modbuild.HostTarget()
	dir := Dir(t, "echo", "math", "binary")
	for _, name := range []string{"echo", "math", "binary"} {
		if _, err := os.Stat(filepath.Join(dir, host.FileName(name))); err != nil {
			t.Error(err)
		}
	}
}

func TestPrebuilt(t *testing.T) {
	host := modbuild.HostTarget()
	pre := t.TempDir()
	want := []byte("not really a library")
	if err := os.WriteFile(filepath.Join(pre, host.FileName("echo")), want, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvModules, pre)

	got, err := os.ReadFile(Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Path copied %q, want the prebuilt %q", got, want)
	}

	ft := fake(t)
	msg, failed := ft.do(func() { Path(ft, "math") })
	if !failed {
		t.Fatal("Path of a module missing from the prebuilt directory did not fail")
	}
	if !strings.Contains(msg, EnvModules) || !strings.Contains(msg, host.FileName("math")) {
		t.Errorf("failure message %q does not explain what is missing", msg)
	}
}

func TestUnknownModule(t *testing.T) {
	ft := fake(t)
	msg, failed := ft.do(func() { Path(ft, "no_such_module") })
	if !failed || !strings.Contains(msg, "no_such_module") {
		t.Errorf("Path(no_such_module): failed=%v, message %q", failed, msg)
	}
}

// fakeTB is a testing.TB whose Fatalf records the message and stops the
// goroutine, so that a test can check how a helper fails.
type fakeTB struct {
	testing.TB // the real test, for TempDir and everything else

	mu  sync.Mutex
	msg string
}

func fake(t *testing.T) *fakeTB { return &fakeTB{TB: t} }

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// do runs fn in its own goroutine and reports the message of a Fatalf it
// made, if it made one.
func (f *fakeTB) do(fn func()) (msg string, failed bool) {
	done := make(chan bool)
	go func() {
		completed := false
		defer func() { done <- !completed }()
		fn()
		completed = true
	}()
	failed = <-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg, failed
}

func TestNoCompilerFails(t *testing.T) {
	// Forget the compiler and the compiled modules, then hide every
	// compiler; restore both afterwards.
	mu.Lock()
	savedBuilds := builds
	builds = map[string]*build{}
	mu.Unlock()
	compilerOnce = sync.Once{}
	t.Cleanup(func() {
		mu.Lock()
		builds = savedBuilds
		mu.Unlock()
		compilerOnce = sync.Once{}
	})
	t.Setenv(EnvModules, "")
	t.Setenv("CC", "/nonexistent")
	t.Setenv("PATH", "")

	ft := fake(t)
	msg, failed := ft.do(func() { Path(ft, "echo") })
	if !failed {
		t.Fatal("Path without a compiler did not fail the test")
	}
	for _, want := range []string{"install", EnvModules, "/nonexistent"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message does not mention %q:\n%s", want, msg)
		}
	}
}
