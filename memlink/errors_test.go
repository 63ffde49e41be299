package memlink_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestErrorsReadOnce provokes every kind of error the runtime returns and
// checks how each reads: exactly one "memlink:", at the start, and no
// path (nor handle) more than once.
func TestErrorsReadOnce(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad"+abi.LibraryExt)
	if err := os.WriteFile(bad, []byte("this is a text file, not a library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	echo := modtest.Path(t, "echo")
	rt := memlink.New(memlink.WithDrainTimeout(50*time.Millisecond), memlink.WithMaxOutput(1<<20))
	t.Cleanup(func() { rt.Close() })
	mustLoad := func(path string, opts ...memlink.LoadOption) memlink.Handle {
		t.Helper()
		h, err := rt.Load(memlink.FileRef(path), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	type errCase struct {
		name  string
		err   error
		want  error
		paths []string // each may appear at most once
	}
	var cases []errCase
	add := func(name string, err, want error, paths ...string) {
		cases = append(cases, errCase{name, err, want, paths})
	}
	loadErr := func(path string, opts ...memlink.LoadOption) error {
		_, err := rt.Load(memlink.FileRef(path), opts...)
		return err
	}

	add("load not found", loadErr(filepath.Join(dir, "nope"+abi.LibraryExt)), memlink.ErrNotFound, filepath.Join(dir, "nope"+abi.LibraryExt))
	add("load invalid", loadErr(bad), memlink.ErrInvalidModule, bad)
	add("load missing symbol", loadErr(modtest.Path(t, "missing")), memlink.ErrMissingSymbol, modtest.Path(t, "missing"))
	add("load abi version", loadErr(modtest.Path(t, "abi99")), memlink.ErrABIVersion, modtest.Path(t, "abi99"))
	add("load init failed", loadErr(modtest.Path(t, "initfail")), memlink.ErrInitFailed, modtest.Path(t, "initfail"))
	add("load digest", loadErr(echo, memlink.WithDigest(strings.Repeat("ab", 32))), memlink.ErrDigestMismatch, echo)
	if runtime.GOOS != "windows" {
		ww := filepath.Join(dir, "ww")
		if err := os.Mkdir(ww, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(ww, 0o777); err != nil {
			t.Fatal(err)
		}
		ins := filepath.Join(ww, "echo"+abi.LibraryExt)
		b, _ := os.ReadFile(echo)
		if err := os.WriteFile(ins, b, 0o644); err != nil {
			t.Fatal(err)
		}
		add("load insecure", loadErr(ins), memlink.ErrInsecureModule, ins)
	}

	h := mustLoad(echo)
	_, err := rt.Reload(h, memlink.FileRef(bad), hotreload.Config{})
	add("reload rolled back", err, memlink.ErrInvalidModule, bad, echo, h.String())
	_, err = rt.Call(0, "x", nil)
	add("unknown handle", err, memlink.ErrUnknownHandle)

	bin := mustLoad(modtest.Path(t, "binary"))
	_, err = rt.Call(bin, "fail", nil)
	add("call code", err, nil, modtest.Path(t, "binary"))
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], 2<<20)
	_, err = rt.Call(bin, "repeat", n[:])
	add("output too large", err, memlink.ErrOutputTooLarge)

	over := mustLoad(modtest.Path(t, "overflow"))
	_, err = rt.Call(over, "process", nil)
	add("corrupted", err, memlink.ErrModuleCorrupted)
	_, err = rt.Call(over, "process", nil)
	add("quarantined", err, memlink.ErrModuleCorrupted)

	slow := mustLoad(modtest.Path(t, "sleep"))
	done := slowCall(t, rt, slow, 400)
	err = rt.Unload(slow)
	add("unload drain timeout", err, memlink.ErrDrainTimeout, slow.String())
	<-done

	slow2 := mustLoad(modtest.Path(t, "sleep"))
	done = slowCall(t, rt, slow2, 400)
	_, err = rt.Reload(slow2, memlink.FileRef(modtest.Path(t, "sleep")), hotreload.Config{DrainTimeout: 20 * time.Millisecond})
	add("reload drain timeout", err, memlink.ErrDrainTimeout, slow2.String())
	<-done

	ddir := modtest.Dir(t, "echo", "initfail")
	if err := os.WriteFile(filepath.Join(ddir, "broken"+abi.LibraryExt), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = rt.LoadDir(ddir)
	add("dir", err, memlink.ErrInitFailed, filepath.Join(ddir, "broken"+abi.LibraryExt), filepath.Join(ddir, "initfail"+abi.LibraryExt))

	if runtime.GOOS != "windows" {
		hc, lerr := rt.Load(memlink.FileRef(modtest.Path(t, "crashy")), memlink.WithIsolation(memlink.Isolation{}))
		switch {
		case errors.Is(lerr, syscall.ENOEXEC):
			t.Logf("no crash case: cannot start a worker here: %v", lerr)
		case lerr != nil:
			t.Fatal(lerr)
		default:
			_, err = rt.Call(hc, "segv", nil)
			add("crash", err, memlink.ErrModuleCrashed)
			hs, err2 := rt.Load(memlink.FileRef(modtest.Path(t, "crashy")), memlink.WithIsolation(memlink.Isolation{CallTimeout: 50 * time.Millisecond}))
			if err2 != nil {
				t.Fatal(err2)
			}
			_, err = rt.Call(hs, "loop", nil)
			add("call timeout", err, memlink.ErrCallTimeout)
		}
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(c.err, c.want) {
				t.Errorf("error %q does not match %v", c.err, c.want)
			}
			msg := c.err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "memlink: ") || strings.Count(msg, "memlink:") != 1 {
				t.Errorf("want one leading \"memlink:\": %s", msg)
			}
			for _, p := range c.paths {
				if k := strings.Count(msg, p); k > 1 {
					t.Errorf("%s appears %d times: %s", p, k, msg)
				}
			}
		})
	}
}
