//go:build unix

package memlink_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// trustLayout makes base/safe (mode 0755) and base/ww (world-writable,
// not sticky, with a subdirectory sub), and returns their paths and the
// library extension.
func trustLayout(t *testing.T) (safe, ww, ext string) {
	t.Helper()
	ext = filepath.Ext(modtest.Path(t, "echo"))
	base := t.TempDir()
	safe, ww = filepath.Join(base, "safe"), filepath.Join(base, "ww")
	for _, d := range []string{safe, ww, filepath.Join(ww, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(ww, 0o777); err != nil {
		t.Fatal(err)
	}
	return safe, ww, ext
}

// TestInsecureThroughSymlinks: a module reached through a symbolic link is
// judged by where the link leads (and by where the link itself is), not
// by the path as written.
func TestInsecureThroughSymlinks(t *testing.T) {
	safe, ww, ext := trustLayout(t)
	echo := modtest.Path(t, "echo")
	mustCopy(t, echo, filepath.Join(ww, "mod"+ext))
	mustCopy(t, echo, filepath.Join(ww, "sub", "mod"+ext))
	mustCopy(t, echo, filepath.Join(safe, "real"+ext))
	links := map[string]string{
		filepath.Join(safe, "link"+ext):  "../ww/mod" + ext, // a file in a world-writable directory
		filepath.Join(safe, "libdir"):    "../ww/sub/",      // a directory below one
		filepath.Join(safe, "abs"+ext):   filepath.Join(ww, "mod"+ext),
		filepath.Join(ww, "hop"+ext):     "../safe/real" + ext, // a link others can replace
		filepath.Join(safe, "chain"+ext): "../ww/hop" + ext,
		filepath.Join(safe, "good"+ext):  "real" + ext, // all trusted
		filepath.Join(safe, "up"+ext):    "../safe/./real" + ext,
	}
	for l, target := range links {
		if err := os.Symlink(target, l); err != nil {
			t.Fatal(err)
		}
	}
	rt := memlink.New()
	defer rt.Close()
	for _, p := range []string{
		filepath.Join(safe, "link"+ext),
		filepath.Join(safe, "libdir", "mod"+ext),
		filepath.Join(safe, "abs"+ext),
		filepath.Join(ww, "hop"+ext),
		filepath.Join(safe, "chain"+ext),
	} {
		for _, opts := range [][]memlink.LoadOption{nil, {memlink.LoadInPlace()}} {
			if h, err := rt.Load(memlink.MustParseRef(p), opts...); !errors.Is(err, memlink.ErrInsecureModule) {
				t.Errorf("Load(%s, %d options) = %v, %v; want ErrInsecureModule", p, len(opts), h, err)
			}
		}
	}
	for _, p := range []string{filepath.Join(safe, "good"+ext), filepath.Join(safe, "up"+ext)} {
		h, err := rt.Load(memlink.MustParseRef(p))
		if err != nil {
			t.Fatalf("Load(%s) through trusted links: %v", p, err)
		}
		if got := call(t, rt, h, "echo", "hi"); got != "hi" {
			t.Fatalf("echo = %q", got)
		}
	}
	lax := memlink.New(memlink.WithInsecureModules())
	defer lax.Close()
	if _, err := lax.Load(memlink.MustParseRef(filepath.Join(safe, "link"+ext))); err != nil {
		t.Fatalf("WithInsecureModules through a link: %v", err)
	}
	// A loop of links ends, as the kernel's lookup would.
	os.Symlink("loop2"+ext, filepath.Join(safe, "loop1"+ext))
	os.Symlink("loop1"+ext, filepath.Join(safe, "loop2"+ext))
	if _, err := rt.Load(memlink.MustParseRef(filepath.Join(safe, "loop1"+ext))); !errors.Is(err, memlink.ErrInvalidModule) && !errors.Is(err, memlink.ErrNotFound) {
		t.Fatalf("Load through a loop of links = %v", err)
	}
}

// TestInsecureSwapRace loads a module through safe/link.so -> ../ww/mod.so
// while someone who can write ww/ keeps pointing ww/mod.so at a trusted
// file (ours, mode 0755) and at one the policy refuses (theirs). A
// check by path followed by a second open used to run the refused file.
// Now every load is refused, and none runs the wrong module.
func TestInsecureSwapRace(t *testing.T) {
	loads := 3000
	if testing.Short() {
		loads = 500
	}
	t.Run("goroutine", func(t *testing.T) {
		safe, ww, ext := trustLayout(t)
		mustCopy(t, modtest.Path(t, "version_v1"), filepath.Join(ww, "a"+ext))
		mustCopy(t, modtest.Path(t, "version_v2"), filepath.Join(ww, "evil"+ext))
		if err := os.Chmod(filepath.Join(ww, "evil"+ext), 0o777); err != nil {
			t.Fatal(err)
		}
		swapOnce(ww, ext) // ww/mod.so exists from here on
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() {
			for !stop.Load() {
				swapOnce(ww, ext)
			}
		})
		defer func() { stop.Store(true); wg.Wait() }()
		raceLoads(t, filepath.Join(safe, "link"+ext), ww, ext, loads)
	})
	t.Run("nobody", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to run the swapper as user nobody (the goroutine variant ran)")
		}
		perl, err := exec.LookPath("perl")
		if err != nil {
			t.Skip("needs perl to run the swapper as user nobody (the goroutine variant ran)")
		}
		safe, ww, ext := trustLayout(t)
		// Let nobody reach ww: t.TempDir's directories are 0700.
		for d := filepath.Dir(ww); d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		mustCopy(t, modtest.Path(t, "version_v1"), filepath.Join(ww, "a"+ext))
		evil := filepath.Join(ww, "evil"+ext)
		mustCopy(t, modtest.Path(t, "version_v2"), evil)
		if err := os.Chown(evil, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		script := fmt.Sprintf(`chdir $ARGV[0] or die; for (;;) { symlink "a%[1]s","t-a"; rename "t-a","mod%[1]s"; symlink "evil%[1]s","t-evil"; rename "t-evil","mod%[1]s"; }`, ext)
		cmd := exec.Command(perl, "-e", script, ww)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		// Wait for the swapper to have started.
		deadline := time.Now().Add(10 * time.Second)
		for _, err := os.Lstat(filepath.Join(ww, "mod"+ext)); err != nil; _, err = os.Lstat(filepath.Join(ww, "mod"+ext)) {
			if time.Now().After(deadline) {
				t.Fatalf("the swapper running as nobody did not start: %v", err)
			}
			time.Sleep(time.Millisecond)
		}
		raceLoads(t, filepath.Join(safe, "link"+ext), ww, ext, loads)
	})
}

// swapOnce points ww/mod.so at the trusted file, then at the refused one,
// each time replacing it at once (a new link renamed over it), so that it
// is never missing.
func swapOnce(ww, ext string) {
	mod := filepath.Join(ww, "mod"+ext)
	for _, f := range []string{"a", "evil"} {
		tmp := filepath.Join(ww, "t-"+f)
		os.Symlink(f+ext, tmp)
		os.Rename(tmp, mod)
	}
}

func raceLoads(t *testing.T, link, ww, ext string, loads int) {
	t.Helper()
	if err := os.Symlink(filepath.Join("..", filepath.Base(ww), "mod"+ext), link); err != nil {
		t.Fatal(err)
	}
	rt := memlink.New()
	defer rt.Close()
	outcomes := map[string]int{}
	for range loads {
		h, err := rt.Load(memlink.MustParseRef(link))
		if err != nil {
			outcomes[memlink.LoadErrorReason(err)]++
			continue
		}
		out, err := rt.Call(h, "version", nil)
		outcomes["ran "+string(out)]++
		if err == nil && string(out) != "v1" {
			outcomes["wrong"]++
		}
		rt.Unload(h)
	}
	t.Logf("%d loads: %v", loads, outcomes)
	if outcomes["wrong"] != 0 || outcomes["insecure"] != loads {
		t.Fatalf("%d of %d loads ran the refused module; want every load refused: %v", outcomes["wrong"], loads, outcomes)
	}
}

// TestInsecureGroupWritable: a file or directory its group may write is
// refused unless that group is this process's effective group.
func TestInsecureGroupWritable(t *testing.T) {
	src := modtest.Path(t, "echo")
	ext := filepath.Ext(src)
	base := t.TempDir()
	rt := memlink.New()
	defer rt.Close()

	own := filepath.Join(base, "own"+ext)
	mustCopy(t, src, own)
	if err := os.Chown(own, -1, os.Getegid()); err != nil {
		t.Fatal(err)
	}
	os.Chmod(own, 0o775)
	if _, err := rt.Load(memlink.MustParseRef(own)); err != nil {
		t.Fatalf("a file writable by this process's own group: %v", err)
	}
	ownDir := filepath.Join(base, "owndir")
	os.Mkdir(ownDir, 0o775)
	os.Chown(ownDir, -1, os.Getegid())
	os.Chmod(ownDir, 0o775)
	mustCopy(t, src, filepath.Join(ownDir, "m"+ext))
	if _, err := rt.Load(memlink.MustParseRef(filepath.Join(ownDir, "m"+ext))); err != nil {
		t.Fatalf("a directory writable by this process's own group: %v", err)
	}

	other := otherGroup(t)
	if other < 0 {
		t.Skip("no group other than the effective one to give files to (needs root or a supplementary group); the own-group cases ran")
	}
	file := filepath.Join(base, "group"+ext)
	mustCopy(t, src, file)
	if err := os.Chown(file, -1, other); err != nil {
		t.Fatal(err)
	}
	os.Chmod(file, 0o775)
	dir := filepath.Join(base, "groupdir")
	os.Mkdir(dir, 0o775)
	if err := os.Chown(dir, -1, other); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o775)
	inDir := filepath.Join(dir, "m"+ext)
	mustCopy(t, src, inDir)
	sticky := filepath.Join(base, "groupsticky")
	os.Mkdir(sticky, 0o775)
	os.Chown(sticky, -1, other)
	os.Chmod(sticky, 0o775|os.ModeSticky)
	inSticky := filepath.Join(sticky, "m"+ext)
	mustCopy(t, src, inSticky)

	for p, mention := range map[string]string{file: "writable by group", inDir: "directory " + dir} {
		_, err := rt.Load(memlink.MustParseRef(p))
		if !errors.Is(err, memlink.ErrInsecureModule) || !strings.Contains(err.Error(), mention) {
			t.Errorf("Load(%s) = %v; want ErrInsecureModule mentioning %q", p, err, mention)
		}
	}
	if _, err := rt.Load(memlink.MustParseRef(inSticky)); err != nil {
		t.Errorf("a file of ours in a sticky group-writable directory: %v", err)
	}
	// Still readable but no longer group-writable: accepted.
	os.Chmod(file, 0o755)
	if _, err := rt.Load(memlink.MustParseRef(file)); err != nil {
		t.Errorf("after chmod g-w: %v", err)
	}
}

// otherGroup returns a group id other than the effective one that this
// process may give its files to, or -1.
func otherGroup(t *testing.T) int {
	if os.Geteuid() == 0 {
		return 4242
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g != os.Getegid() {
			return g
		}
	}
	return -1
}

// TestLoadFIFO: a FIFO, a character device or a directory named like a
// module fails Load and Reload (LoadDir: the first two; it skips
// directories) promptly with ErrInvalidModule
// (the open used to wait for a writer for ever), with and without the
// permission policy, and the runtime keeps working.
func TestLoadFIFO(t *testing.T) {
	ext := filepath.Ext(modtest.Path(t, "echo"))
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x"+ext)
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero"+ext)
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub"+ext)
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]memlink.Option{nil, {memlink.WithInsecureModules()}} {
		rt := memlink.New(opts...)
		good, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{fifo, zero, sub} {
			withDeadline(t, p, func() {
				if _, err := rt.Load(memlink.MustParseRef(p)); !errors.Is(err, memlink.ErrInvalidModule) {
					t.Errorf("Load(%s) = %v; want ErrInvalidModule", p, err)
				}
				if _, err := rt.Load(memlink.MustParseRef(p), memlink.LoadInPlace()); !errors.Is(err, memlink.ErrInvalidModule) {
					t.Errorf("LoadInPlace(%s) = %v; want ErrInvalidModule", p, err)
				}
				if _, err := rt.Reload(good, memlink.MustParseRef(p), hotreload.Config{}); !errors.Is(err, memlink.ErrInvalidModule) {
					t.Errorf("Reload to %s = %v; want ErrInvalidModule", p, err)
				}
			})
		}
		withDeadline(t, "LoadDir of a FIFO", func() {
			if _, err := rt.LoadDir(fifo); err == nil {
				t.Error("LoadDir of a FIFO succeeded")
			}
		})
		withDeadline(t, "LoadDir", func() {
			hs, err := rt.LoadDir(dir)
			var de *memlink.DirError
			if len(hs) != 0 || !errors.As(err, &de) || len(de.Files) != 2 || !errors.Is(err, memlink.ErrInvalidModule) {
				t.Errorf("LoadDir = %v, %v; want two ErrInvalidModule", hs, err)
			}
		})
		if got := call(t, rt, good, "echo", "still"); got != "still" {
			t.Fatalf("echo after the refusals = %q", got)
		}
		withDeadline(t, "Unload and Close", func() {
			if err := rt.Unload(good); err != nil {
				t.Errorf("Unload: %v", err)
			}
			if err := rt.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestLoadMissingFileOrDirectory loads paths that do not exist, the file
// or a directory on the way, privately and in place: the default resolver
// leaves the look to the load's own open, which must report ErrNotFound
// naming what is missing, and the path the user gave.
func TestLoadMissingFileOrDirectory(t *testing.T) {
	rt := memlink.New()
	defer rt.Close()
	dir := t.TempDir()
	for _, c := range []struct{ path, missing string }{
		{filepath.Join(dir, "nope.so"), filepath.Join(dir, "nope.so")},
		{filepath.Join(dir, "absent", "nope.so"), filepath.Join(dir, "absent")},
	} {
		for _, opts := range [][]memlink.LoadOption{nil, {memlink.LoadInPlace()}} {
			_, err := rt.Load(memlink.MustParseRef(c.path), opts...)
			if !errors.Is(err, memlink.ErrNotFound) || !strings.Contains(err.Error(), "no file at "+c.missing) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("Load(%s, %d options) = %v; want ErrNotFound naming %s and %s", c.path, len(opts), err, c.missing, c.path)
			}
		}
	}
}
