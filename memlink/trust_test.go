package memlink_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

func sha256File(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestDigestPinning(t *testing.T) {
	p := modtest.Path(t, "version_v1")
	good := sha256File(t, p)
	bad := strings.Repeat("0", 64)
	rt := memlink.New()
	defer rt.Close()

	h, err := rt.Load(memlink.MustParseRef(p + "#sha256=" + strings.ToUpper(good)))
	if err != nil {
		t.Fatalf("pinned load with the right digest: %v", err)
	}
	call(t, rt, h, "version", "")
	if _, err := rt.Load(memlink.MustParseRef(p), memlink.WithDigest(good)); err != nil {
		t.Fatalf("WithDigest with the right digest: %v", err)
	}

	for _, load := range []func() error{
		func() error { _, err := rt.Load(memlink.MustParseRef(p + "#sha256=" + bad)); return err },
		func() error { _, err := rt.Load(memlink.MustParseRef(p), memlink.WithDigest(bad)); return err },
	} {
		err := load()
		var de *memlink.DigestError
		if !errors.Is(err, memlink.ErrDigestMismatch) || !errors.As(err, &de) {
			t.Fatalf("load with a wrong digest = %v", err)
		}
		if de.Expected != bad || de.Actual != good || !strings.Contains(err.Error(), good) || !strings.Contains(err.Error(), bad) {
			t.Fatalf("DigestError = %+v (%v)", de, err)
		}
	}
	// Conflicting pins, and a pin with LoadInPlace, are refused.
	if _, err := rt.Load(memlink.MustParseRef(p+"#sha256="+good), memlink.WithDigest(bad)); !errors.Is(err, memlink.ErrDigestMismatch) {
		t.Fatalf("conflicting pins: %v", err)
	}
	if _, err := rt.Load(memlink.MustParseRef(p+"#sha256="+good), memlink.LoadInPlace()); err == nil {
		t.Fatal("a pin with LoadInPlace was accepted")
	}
	if n := len(rt.Handles()); n != 2 {
		t.Fatalf("%d handles; the refused loads left some behind", n)
	}
	if st := rt.Stats(); st.LoadErrors["digest_mismatch"] != 3 {
		t.Fatalf("load errors = %v", st.LoadErrors)
	}
}

// TestDigestMismatchRunsNothing checks that a refused file was never opened:
// its constructor-free image is not mapped, and its init did not run.
func TestDigestMismatchRunsNothing(t *testing.T) {
	if !seesMappings {
		t.Skip("lists the process's mappings, which this test cannot do here")
	}
	p := modtest.Path(t, "configured")
	rt := memlink.New()
	defer rt.Close()
	if _, err := rt.Load(memlink.MustParseRef(p + "#sha256=" + strings.Repeat("a", 64))); !errors.Is(err, memlink.ErrDigestMismatch) {
		t.Fatal(err)
	}
	if n := mappings(t, p); n != 0 {
		t.Fatalf("a refused module is mapped %d times", n)
	}
}

func TestFileSwappedAfterParseRef(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mod"+filepath.Ext(modtest.Path(t, "echo")))
	mustCopy(t, modtest.Path(t, "version_v1"), p)
	ref := memlink.MustParseRef(p + "#sha256=" + sha256File(t, p))
	mustCopy(t, modtest.Path(t, "version_v2"), p+".new")
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	rt := memlink.New()
	defer rt.Close()
	if _, err := rt.Load(ref); !errors.Is(err, memlink.ErrDigestMismatch) {
		t.Fatalf("Load of a swapped file = %v", err)
	}
}

// TestSwapDuringLoad swaps two versions over the module path in a loop
// while loading it: a pinned load never runs the wrong bytes, and an
// unpinned load always runs one whole version.
func TestSwapDuringLoad(t *testing.T) {
	dir := t.TempDir()
	ext := filepath.Ext(modtest.Path(t, "echo"))
	p := filepath.Join(dir, "mod"+ext)
	v1, v2 := modtest.Path(t, "version_v1"), modtest.Path(t, "version_v2")
	pin := sha256File(t, v1)
	mustCopy(t, v1, p)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			src := v1
			if i%2 == 1 {
				src = v2
			}
			tmp := filepath.Join(dir, "swap"+ext)
			b, _ := os.ReadFile(src)
			os.WriteFile(tmp, b, 0o755)
			os.Rename(tmp, p)
		}
	})
	defer func() { stop.Store(true); wg.Wait() }()
	rt := memlink.New()
	defer rt.Close()
	// On Windows a file being replaced cannot be opened ("Sharing
	// violation"): such a load fails with ErrInvalidModule, which is fine;
	// what must never happen is running the wrong bytes.
	busy := func(err error) bool {
		return runtime.GOOS == "windows" && errors.Is(err, memlink.ErrInvalidModule)
	}
	var pinnedOK, pinnedRefused, sharing int
	for range 100 {
		h, err := rt.Load(memlink.MustParseRef(p + "#sha256=" + pin))
		switch {
		case errors.Is(err, memlink.ErrDigestMismatch):
			pinnedRefused++
		case busy(err):
			sharing++
		case err != nil:
			t.Fatalf("pinned load: %v", err)
		default:
			if got := call(t, rt, h, "version", ""); got != "v1" {
				t.Fatalf("a load pinned to v1 runs %q", got)
			}
			pinnedOK++
			rt.Unload(h)
		}
		h, err = rt.Load(memlink.MustParseRef(p))
		if busy(err) {
			sharing++
			continue
		}
		if err != nil {
			t.Fatalf("unpinned load: %v", err)
		}
		if got := call(t, rt, h, "version", ""); got != "v1" && got != "v2" {
			t.Fatalf("unpinned load runs %q", got)
		}
		rt.Unload(h)
	}
	t.Logf("pinned loads: %d of v1, %d refused; %d loads met a file being replaced", pinnedOK, pinnedRefused, sharing)
}

func TestPermissionPolicy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the permission policy inspects Unix modes, which Windows does not have")
	}
	src := modtest.Path(t, "echo")
	ext := filepath.Ext(src)
	base := t.TempDir()

	worldFile := filepath.Join(base, "world"+ext)
	mustCopy(t, src, worldFile)
	os.Chmod(worldFile, 0o757)

	openDir := filepath.Join(base, "open")
	os.Mkdir(openDir, 0o755)
	os.Chmod(openDir, 0o777)
	inOpenDir := filepath.Join(openDir, "m"+ext)
	mustCopy(t, src, inOpenDir)

	stickyDir := filepath.Join(base, "sticky")
	os.Mkdir(stickyDir, 0o755)
	os.Chmod(stickyDir, 0o777|os.ModeSticky)
	inSticky := filepath.Join(stickyDir, "m"+ext)
	mustCopy(t, src, inSticky)

	cases := []struct {
		name, path, mention string
	}{
		{"world-writable file", worldFile, "writable by every user"},
		{"world-writable directory", inOpenDir, "directory " + openDir},
	}
	if os.Geteuid() == 0 {
		// Only root can give a file away to test the ownership rule.
		foreign := filepath.Join(base, "foreign"+ext)
		mustCopy(t, src, foreign)
		if err := os.Chown(foreign, 4242, 4242); err == nil {
			cases = append(cases, struct{ name, path, mention string }{"owned by another user", foreign, "owned by another user"})
		}
	} else {
		t.Log("not root: the file-owned-by-another-user case needs chown and is not run")
	}
	strict := memlink.New()
	defer strict.Close()
	lax := memlink.New(memlink.WithInsecureModules())
	defer lax.Close()
	for _, c := range cases {
		_, err := strict.Load(memlink.MustParseRef(c.path))
		if !errors.Is(err, memlink.ErrInsecureModule) || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: Load = %v; want ErrInsecureModule mentioning %q", c.name, err, c.mention)
		}
		if _, err := lax.Load(memlink.MustParseRef(c.path)); err != nil {
			t.Errorf("%s with WithInsecureModules: %v", c.name, err)
		}
	}
	if _, err := strict.Load(memlink.MustParseRef(inSticky)); err != nil {
		t.Errorf("a file of ours in a sticky world-writable directory (like /tmp) is refused: %v", err)
	}
}

// publish lays out a registry with the two version modules.
func publish(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	reg := &memlink.Registry{Dir: dir}
	for ver, mod := range map[string]string{"1.0.0": "version_v1", "1.2.0": "version_v1", "1.3.1": "version_v2", "2.0.0": "version_v1", "0.3.4": "version_v2"} {
		if err := reg.Publish("greeter", ver, modtest.Path(t, mod)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRegistryResolution(t *testing.T) {
	dir := publish(t)
	rt := memlink.New(memlink.WithRegistry(dir))
	defer rt.Close()
	cases := []struct{ ref, want string }{
		{"greeter@1.2.0", "v1"},
		{"greeter@^1.2", "v2"},   // 1.3.1
		{"greeter@^1", "v2"},     // 1.3.1
		{"greeter@latest", "v1"}, // 2.0.0
		{"greeter@^0.3", "v2"},   // 0.3.4
	}
	for _, c := range cases {
		h, err := rt.Load(memlink.MustParseRef(c.ref))
		if err != nil {
			t.Fatalf("%s: %v", c.ref, err)
		}
		if got := call(t, rt, h, "version", ""); got != c.want {
			t.Errorf("%s runs %q, want %q", c.ref, got, c.want)
		}
	}
	for _, c := range []struct{ ref, mention string }{
		{"greeter@^3", "have 2.0.0, 1.3.1, 1.2.0, 1.0.0, 0.3.4"},
		{"greeter@1.2.1", "no version matches"},
		{"nobody@latest", "no module \"nobody\""},
	} {
		_, err := rt.Load(memlink.MustParseRef(c.ref))
		if !errors.Is(err, memlink.ErrNotFound) || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: %v; want ErrNotFound mentioning %q", c.ref, err, c.mention)
		}
	}
}

func TestRegistryFromEnvironment(t *testing.T) {
	t.Setenv(memlink.EnvRegistry, publish(t))
	rt := memlink.New()
	defer rt.Close()
	if _, err := rt.Load(memlink.MustParseRef("greeter@1.0.0")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(memlink.EnvRegistry, "")
	if _, err := rt.Load(memlink.MustParseRef("greeter@1.0.0")); !errors.Is(err, memlink.ErrNotFound) || !strings.Contains(err.Error(), memlink.EnvRegistry) {
		t.Fatalf("without a registry: %v", err)
	}
}

func TestRegistryOtherPlatformAndTampering(t *testing.T) {
	dir := publish(t)
	// Move 1.3.1's module to another platform: ^1 falls back to 1.2.0.
	mpath := filepath.Join(dir, "greeter", "1.3.1", memlink.ManifestFile)
	b, _ := os.ReadFile(mpath)
	var m memlink.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	mod := m.Modules[runtime.GOOS+"/"+runtime.GOARCH]
	m.Modules = map[string]memlink.ManifestModule{"plan9/mips": mod}
	b, _ = json.Marshal(m)
	os.WriteFile(mpath, b, 0o644)

	rt := memlink.New(memlink.WithRegistry(dir))
	defer rt.Close()
	_, err := rt.Load(memlink.MustParseRef("greeter@1.3.1"))
	if !errors.Is(err, memlink.ErrNotFound) || !strings.Contains(err.Error(), "plan9/mips") {
		t.Fatalf("manifest for another platform: %v", err)
	}
	h, err := rt.Load(memlink.MustParseRef("greeter@^1.3"))
	if err == nil {
		t.Fatalf("^1.3 loaded %v though 1.3.1 has no module for this platform", h)
	}

	// Tamper with 1.2.0's module file under its valid manifest.
	tampered := filepath.Join(dir, "greeter", "1.2.0", filepath.Base(modtest.Path(t, "version_v1")))
	mustCopy(t, modtest.Path(t, "version_v2"), tampered)
	if _, err := rt.Load(memlink.MustParseRef("greeter@1.2.0")); !errors.Is(err, memlink.ErrDigestMismatch) {
		t.Fatalf("tampered module: %v", err)
	}
	// An explicit pin that disagrees with the manifest is refused too.
	if _, err := rt.Load(memlink.MustParseRef("greeter@1.0.0#sha256=" + strings.Repeat("b", 64))); !errors.Is(err, memlink.ErrDigestMismatch) {
		t.Fatalf("pin against manifest: %v", err)
	}
}

func TestParseRefForms(t *testing.T) {
	d := strings.Repeat("ab", 32)
	cases := []struct {
		in                   string
		path, name, ver, dig string
	}{
		{"./my_module.so", "./my_module.so", "", "", ""},
		{"echo@1.2.0", "", "echo", "1.2.0", ""},
		{"echo@^1.2#sha256=" + d, "", "echo", "^1.2", d},
		{"/opt/echo.so#sha256=" + strings.ToUpper(d), "/opt/echo.so", "", "", d},
		{"./dir@2/echo.so", "./dir@2/echo.so", "", "", ""},
		{"a#b.so", "a#b.so", "", "", ""},
	}
	for _, c := range cases {
		r, err := memlink.ParseRef(c.in)
		if err != nil {
			t.Fatalf("ParseRef(%q): %v", c.in, err)
		}
		name, ver, _ := r.Registry()
		if r.Path() != c.path || name != c.name || ver != c.ver || r.Digest() != c.dig {
			t.Errorf("ParseRef(%q) = path %q, name %q, version %q, digest %q", c.in, r.Path(), name, ver, r.Digest())
		}
	}
	for _, bad := range []string{"echo@1.2", "echo@^", "echo@1.2.x", "x.so#sha256=123", "x.so#sha256=" + strings.Repeat("z", 64), "#sha256=" + d, "echo@01.2.3"} {
		if _, err := memlink.ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) succeeded", bad)
		}
	}
}

// FuzzManifest checks that ParseManifest never panics and that whatever
// it accepts is safe to use: plain file names and well-formed digests.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"name":"echo","version":"1.2.0","modules":{"linux/amd64":{"file":"echo.so","sha256":"` + strings.Repeat("0", 64) + `"}}}`))
	f.Add([]byte(`{"name":"../x","version":"1","modules":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := memlink.ParseManifest(b)
		if err != nil {
			return
		}
		for plat, mod := range m.Modules {
			if strings.ContainsAny(mod.File, `/\`) || mod.File == ".." || len(mod.SHA256) != 64 || !strings.Contains(plat, "/") {
				t.Fatalf("accepted unsafe manifest %s", b)
			}
		}
	})
}

// withDeadline runs f and fails the test if it has not returned within 20
// s: what it guards against is blocking for ever, not slowness.
func withDeadline(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: still blocked after 20 s", what)
	}
}
