package modbuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/memlink/memlink-go/modules"
)

// hostCompiler returns the host C compiler or fails the test.
func hostCompiler(t *testing.T) string {
	t.Helper()
	cc, err := FindCompiler(HostTarget())
	if err != nil {
		t.Fatalf("FindCompiler: %v", err)
	}
	return cc
}

// libraryMagic returns the first bytes every shared library of goos
// starts with, or nil when there is no single answer.
func libraryMagic(goos string) [][]byte {
	switch goos {
	case "windows":
		return [][]byte{[]byte("MZ")}
	case "darwin", "ios":
		// 64-bit Mach-O, or a universal (fat) file.
		return [][]byte{{0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}}
	case "aix", "plan9":
		return nil
	default:
		return [][]byte{{0x7f, 'E', 'L', 'F'}}
	}
}

func checkMagic(t *testing.T, goos, path string) {
	t.Helper()
	magics := libraryMagic(goos)
	if magics == nil {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range magics {
		if bytes.HasPrefix(data, m) {
			return
		}
	}
	n := min(len(data), 4)
	t.Errorf("%s starts with % x, want one of % x", path, data[:n], magics)
}

func mustLookup(t *testing.T, name string) modules.Module {
	t.Helper()
	m, ok := modules.Lookup(name)
	if !ok {
		t.Fatalf("no module %q", name)
	}
	return m
}

func names(mods []modules.Module) []string {
	var out []string
	for _, m := range mods {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out
}

func TestTargetFileName(t *testing.T) {
	tests := []struct {
		target Target
		want   string
	}{
		{Target{"linux", "amd64"}, "echo.so"},
		{Target{"freebsd", "arm64"}, "echo.so"},
		{Target{"darwin", "arm64"}, "echo.dylib"},
		{Target{"windows", "amd64"}, "echo.dll"},
	}
	for _, tt := range tests {
		if got := tt.target.FileName("echo"); got != tt.want {
			t.Errorf("%v.FileName(echo) = %q, want %q", tt.target, got, tt.want)
		}
	}
	if got, want := (Target{"windows", "amd64"}).CrossEnv(), "CC_windows_amd64"; got != want {
		t.Errorf("CrossEnv = %q, want %q", got, want)
	}
}

func TestBuildAllCaches(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "out") // BuildAll creates it
	host := HostTarget()

	rep, err := BuildAll(ctx, dir, host)
	if err != nil {
		t.Fatalf("BuildAll: %v", err)
	}
	all := names(modules.All())
	if !slices.Equal(rep.Built, all) {
		t.Errorf("first build: Built = %v, want %v", rep.Built, all)
	}
	for name, w := range rep.Warnings {
		t.Errorf("module %s does not compile silently for %v:\n%s", name, host, w)
	}
	if len(rep.Paths) != len(all) {
		t.Errorf("first build: %d paths, want %d", len(rep.Paths), len(all))
	}
	for _, name := range all {
		p := rep.Paths[name]
		if !filepath.IsAbs(p) || filepath.Base(p) != host.FileName(name) {
			t.Errorf("path of %s = %q", name, p)
			continue
		}
		checkMagic(t, host.GOOS, p)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	rep2, err := BuildAll(ctx, dir, host)
	if err != nil {
		t.Fatalf("second BuildAll: %v", err)
	}
	if len(rep2.Built) != 0 {
		t.Errorf("second build rebuilt %v, want nothing", rep2.Built)
	}
	if len(rep2.Paths) != len(all) {
		t.Errorf("second build: %d paths, want %d", len(rep2.Paths), len(all))
	}

	// A changed definition changes the key of that module only.
	mods := modules.All()
	for i := range mods {
		if mods[i].Name == "echo" {
			mods[i].Defines = append(mods[i].Defines, "MEMLINK_TEST_EXTRA=1")
		}
	}
	rep3, err := buildAll(ctx, dir, host, rep.Compiler, mods)
	if err != nil {
		t.Fatalf("buildAll with a new define: %v", err)
	}
	if !slices.Equal(rep3.Built, []string{"echo"}) {
		t.Errorf("after changing echo's defines: Built = %v, want [echo]", rep3.Built)
	}

	// So does a different compiler command, for every module (two are
	// enough to show it).
	two := []modules.Module{mustLookup(t, "math"), mustLookup(t, "string")}
	rep4, err := buildAll(ctx, dir, host, rep.Compiler+" -g", two)
	if err != nil {
		t.Fatalf("buildAll with another compiler command: %v", err)
	}
	if want := names(two); !slices.Equal(rep4.Built, want) {
		t.Errorf("after changing the compiler: Built = %v, want %v", rep4.Built, want)
	}

	// A missing output is rebuilt even though its key matches.
	if err := os.Remove(rep.Paths["math"]); err != nil {
		t.Fatal(err)
	}
	rep5, err := buildAll(ctx, dir, host, rep.Compiler+" -g", two)
	if err != nil {
		t.Fatalf("buildAll after removing math: %v", err)
	}
	if !slices.Equal(rep5.Built, []string{"math"}) {
		t.Errorf("after removing math: Built = %v, want [math]", rep5.Built)
	}
}

func TestCacheKeyInputs(t *testing.T) {
	host := HostTarget()
	other := Target{"windows", "amd64"}
	if other == host {
		other = Target{"linux", "amd64"}
	}
	base := cacheKey("cc", host, []byte("src"), []byte("hdr"), []string{"A=1"})
	variants := map[string]string{
		"source":   cacheKey("cc", host, []byte("src2"), []byte("hdr"), []string{"A=1"}),
		"header":   cacheKey("cc", host, []byte("src"), []byte("hdr2"), []string{"A=1"}),
		"defines":  cacheKey("cc", host, []byte("src"), []byte("hdr"), []string{"A=2"}),
		"compiler": cacheKey("gcc", host, []byte("src"), []byte("hdr"), []string{"A=1"}),
		"target":   cacheKey("cc", other, []byte("src"), []byte("hdr"), []string{"A=1"}),
		"shifted":  cacheKey("cc", host, []byte("sr"), []byte("chdr"), []string{"A=1"}),
	}
	for what, k := range variants {
		if k == base {
			t.Errorf("changing the %s does not change the key", what)
		}
	}
	if again := cacheKey("cc", host, []byte("src"), []byte("hdr"), []string{"A=1"}); again != base {
		t.Error("cacheKey is not deterministic")
	}
}

func TestCompileOne(t *testing.T) {
	cc := hostCompiler(t)
	host := HostTarget()
	m := mustLookup(t, "version_v2")
	out := filepath.Join(t.TempDir(), host.FileName(m.Name))
	if err := Compile(context.Background(), cc, host, m, out); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	checkMagic(t, host.GOOS, out)
}

func TestCompileReportsDiagnostics(t *testing.T) {
	cc := hostCompiler(t)
	host := HostTarget()
	src := []byte("#include \"memlink.h\"\nint broken(void) { return undeclared_name; }\n")
	out := filepath.Join(t.TempDir(), host.FileName("broken"))
	_, err := compileSource(context.Background(), cc, host, "broken", "broken.c", src, nil, out)
	if err == nil {
		t.Fatal("compiling broken C succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"broken.c", "undeclared_name"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed compile left %s behind", out)
	}
}

func TestCompileReturnsWarnings(t *testing.T) {
	cc := hostCompiler(t)
	host := HostTarget()
	src := []byte("#include \"memlink.h\"\nMEMLINK_EXPORT int f(int unused_param) { return 0; }\n")
	out := filepath.Join(t.TempDir(), host.FileName("warn"))
	warnings, err := compileSource(context.Background(), cc, host, "warn", "warn.c", src, nil, out)
	if err != nil {
		t.Fatalf("compileSource: %v", err)
	}
	if !strings.Contains(warnings, "unused_param") {
		t.Errorf("warnings = %q, want one about unused_param", warnings)
	}
}

func TestBuildAllReportsFailures(t *testing.T) {
	cc := hostCompiler(t)
	mods := []modules.Module{
		{Name: "echo", Source: "echo.c"},
		{Name: "nosuch", Source: "nosuch.c"},
	}
	rep, err := buildAll(context.Background(), t.TempDir(), HostTarget(), cc, mods)
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("err = %v, want one about nosuch", err)
	}
	if _, ok := rep.Paths["echo"]; !ok {
		t.Errorf("echo was not built alongside the failure: %+v", rep)
	}
}

func TestBuildAllCancelled(t *testing.T) {
	cc := hostCompiler(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := buildAll(ctx, t.TempDir(), HostTarget(), cc, modules.All())
	if err == nil {
		t.Fatal("buildAll with a cancelled context succeeded")
	}
}

func TestFindCompilerMissing(t *testing.T) {
	t.Setenv("PATH", "")
	host := HostTarget()

	t.Setenv("CC", "/nonexistent")
	_, err := FindCompiler(host)
	if !errors.Is(err, ErrNoCompiler) {
		t.Fatalf("CC=/nonexistent: err = %v, want ErrNoCompiler", err)
	}
	checkHint(t, err)
	if !strings.Contains(err.Error(), "/nonexistent") {
		t.Errorf("error does not name the CC it tried: %v", err)
	}

	t.Setenv("CC", "")
	_, err = FindCompiler(host)
	if !errors.Is(err, ErrNoCompiler) {
		t.Fatalf("CC unset, empty PATH: err = %v, want ErrNoCompiler", err)
	}
	checkHint(t, err)
	for _, name := range hostCompilers {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not say %s was searched: %v", name, err)
		}
	}

	cross := Target{"windows", "amd64"}
	if host == cross {
		cross = Target{"linux", "arm64"}
	}
	t.Setenv(cross.CrossEnv(), "")
	_, err = FindCompiler(cross)
	if !errors.Is(err, ErrNoCompiler) {
		t.Fatalf("%v with empty PATH: err = %v, want ErrNoCompiler", cross, err)
	}
	checkHint(t, err)
	if !strings.Contains(err.Error(), cross.CrossEnv()) {
		t.Errorf("error does not mention %s: %v", cross.CrossEnv(), err)
	}
}

func checkHint(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, "install") {
		t.Errorf("error has no install hint: %v", msg)
	}
	if HostTarget().GOOS == "linux" && !strings.Contains(msg, "apt-get install") {
		t.Errorf("error does not mention apt-get install: %v", msg)
	}
}

func TestFindCompilerFromEnv(t *testing.T) {
	cc := hostCompiler(t)
	prog, err := exec.LookPath(strings.Fields(cc)[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CC", prog)
	got, err := FindCompiler(HostTarget())
	if err != nil || got != prog {
		t.Errorf("CC=%s: FindCompiler = %q, %v", prog, got, err)
	}

	cross := Target{"windows", "amd64"}
	if HostTarget() == cross {
		cross = Target{"linux", "arm64"}
	}
	t.Setenv(cross.CrossEnv(), prog+" -DCROSS")
	got, err = FindCompiler(cross)
	if err != nil || got != prog+" -DCROSS" {
		t.Errorf("%s=%s -DCROSS: FindCompiler = %q, %v", cross.CrossEnv(), prog, got, err)
	}
}

// TestBuildAllWindows cross-compiles every module for windows/amd64 when a
// MinGW-w64 compiler is installed. It is optional: nothing else needs one.
func TestBuildAllWindows(t *testing.T) {
	win := Target{"windows", "amd64"}
	if HostTarget() == win {
		t.Skip("host is windows/amd64; covered by TestBuildAllCaches")
	}
	if _, err := FindCompiler(win); err != nil {
		t.Skipf("no compiler for %v: %v", win, err)
	}
	rep, err := BuildAll(context.Background(), t.TempDir(), win)
	if err != nil {
		t.Fatalf("BuildAll(%v): %v", win, err)
	}
	for name, w := range rep.Warnings {
		t.Errorf("module %s does not compile silently for %v:\n%s", name, win, w)
	}
	for name, p := range rep.Paths {
		if filepath.Ext(p) != ".dll" {
			t.Errorf("%s: %s is not a .dll", name, p)
		}
		checkMagic(t, "windows", p)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	dir, err := DefaultCacheDir()
	if err != nil {
		t.Skipf("no user cache dir: %v", err)
	}
	host := HostTarget()
	want := filepath.Join("memlink-go", "modules", host.GOOS+"_"+host.GOARCH)
	if !strings.HasSuffix(dir, want) {
		t.Errorf("DefaultCacheDir = %q, want it to end in %q", dir, want)
	}
}

func TestBuildSelected(t *testing.T) {
	dir := t.TempDir()
	rep, err := Build(context.Background(), dir, HostTarget(), "echo", "counter")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Paths) != 2 || rep.Paths["echo"] == "" || rep.Paths["counter"] == "" {
		t.Fatalf("paths = %v", rep.Paths)
	}
	if _, err := Build(context.Background(), dir, HostTarget(), "nonesuch"); err == nil {
		t.Fatal("Build of an unknown module succeeded")
	}
}
