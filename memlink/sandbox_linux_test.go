package memlink_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/memlink/memlink-go/hotreload"
	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/internal/sandbox"
	"github.com/memlink/memlink-go/memlink"
)

// The sandbox tests load modules/c/escape.c, whose methods each try one
// way out and return the errno they got ("0": it worked). Every escape is
// also tried without a sandbox (TestSandboxControl), where it must work:
// that is what makes a denial here mean something.

// loadEscape loads the escape module confined by sb (nil: unconfined).
// It skips the test, with the kernel's reason, only where the system
// cannot enforce a sandbox at all (no Landlock, no seccomp: for example
// under qemu-user, which emulates neither).
func loadEscape(t *testing.T, rt *memlink.Runtime, sb *memlink.Sandbox, opts ...memlink.LoadOption) memlink.Handle {
	t.Helper()
	opts = append([]memlink.LoadOption{memlink.WithIsolation(memlink.Isolation{Sandbox: sb})}, opts...)
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "escape")), opts...)
	skipWithoutExec(t, err)
	if sb != nil && !sb.BestEffort && errors.Is(err, memlink.ErrSandboxUnsupported) {
		t.Skipf("no sandbox on this system: %v", err)
	}
	if err != nil {
		t.Fatalf("Load(escape): %v", err)
	}
	return h
}

// try runs one attempt and returns its result.
func try(t *testing.T, rt *memlink.Runtime, h memlink.Handle, attempt string) string {
	t.Helper()
	out, err := rt.Call(h, "try", []byte(attempt))
	if err != nil {
		t.Fatalf("%s: %v", attempt, err)
	}
	return string(out)
}

// expect checks each attempt's result.
func expect(t *testing.T, rt *memlink.Runtime, h memlink.Handle, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		if got := try(t, rt, h, c[0]); got != c[1] {
			t.Errorf("%s = %s, want %s", c[0], got, c[1])
		}
	}
}

const (
	done   = "0"
	eacces = "13"
	eperm  = "1"
)

// escapeDirs makes a directory the sandbox grants for reading, one it
// grants for writing and one it does not grant, each holding a file
// "f".
func escapeDirs(t *testing.T) (readDir, writeDir, outDir string) {
	t.Helper()
	for _, d := range []*string{&readDir, &writeDir, &outDir} {
		*d = t.TempDir()
		if err := os.WriteFile(filepath.Join(*d, "f"), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return
}

func TestSandboxFiles(t *testing.T) {
	readDir, writeDir, outDir := escapeDirs(t)
	linkDir := filepath.Join(t.TempDir(), "link")
	target := t.TempDir()
	if err := os.WriteFile(filepath.Join(target, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, linkDir); err != nil {
		t.Fatal(err)
	}
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{Read: []string{readDir, linkDir}, Write: []string{writeDir}})
	// Created after the load, inside the Write grant.
	later := filepath.Join(writeDir, "later", "deeper")
	if err := os.MkdirAll(later, 0o755); err != nil {
		t.Fatal(err)
	}
	expect(t, rt, h, [][2]string{
		{"read /etc/hostname", eacces},
		{"read " + filepath.Join(outDir, "f"), eacces},
		{"read " + filepath.Join(readDir, "f"), done},
		{"read " + filepath.Join(writeDir, "f"), done},
		{"write " + filepath.Join(readDir, "f"), eacces},
		{"write " + filepath.Join(outDir, "f"), eacces},
		{"write " + filepath.Join(outDir, "new"), eacces},
		{"write /tmp/memlink-escape-" + strconv.Itoa(os.Getpid()), eacces},
		{"write " + filepath.Join(writeDir, "f"), done},
		{"create " + filepath.Join(readDir, "new"), eacces},
		{"create " + filepath.Join(writeDir, "new"), done},
		{"remove " + filepath.Join(writeDir, "new"), done},
		{"remove " + filepath.Join(readDir, "f"), eacces},
		{"remove " + filepath.Join(outDir, "f"), eacces},
		{"create " + filepath.Join(later, "g"), done},
		{"write " + filepath.Join(later, "g"), done},
		// A granted symbolic link grants what it pointed to.
		{"read " + filepath.Join(linkDir, "f"), done},
		{"read " + filepath.Join(target, "f"), done},
		{"write " + filepath.Join(target, "f"), eacces},
	})
	if b, err := os.ReadFile(filepath.Join(writeDir, "f")); err != nil || string(b) != "datax" {
		t.Errorf("granted write: file holds %q, %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(outDir, "f")); string(b) != "data" {
		t.Errorf("denied write changed the file: %q", b)
	}
}

func TestSandboxHostProcess(t *testing.T) {
	mfd, err := unix.MemfdCreate("memlink-test-secret", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(mfd)
	unix.Write(mfd, []byte("secret"))
	host := strconv.Itoa(os.Getpid())
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{})
	expect(t, rt, h, [][2]string{
		{"read /proc/" + host + "/environ", eacces},
		{"read /proc/" + host + "/fd/" + strconv.Itoa(mfd), eacces},
		{"read /proc/" + host + "/mem", eacces},
		{"kill " + host, eperm},
		{"kill 1", eperm},
	})
}

func TestSandboxNetwork(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{})
	expect(t, rt, h, [][2]string{
		{"connect " + port, eacces},
		{"udp", eacces},
		{"socketpair", eacces},
		{"thread connect " + port, eacces},
	})
	open := loadEscape(t, rt, &memlink.Sandbox{Network: true})
	expect(t, rt, open, [][2]string{
		{"connect " + port, done},
		{"udp", done},
		{"socketpair", done},
	})
}

func TestSandboxExec(t *testing.T) {
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{Read: []string{"/usr/bin", "/bin"}})
	expect(t, rt, h, [][2]string{
		{"exec /bin/true", eacces},
		{"fork", eperm},
		{"forkexec /bin/true", eperm},
		{"thread fork", eperm},
		{"thread exec /bin/true", eacces},
	})
	// Exec allows processes and programs the sandbox lets it read.
	open := loadEscape(t, rt, &memlink.Sandbox{Exec: true, Read: []string{"/usr/bin", "/bin"}})
	expect(t, rt, open, [][2]string{
		{"fork", done},
		{"forkexec /bin/true", "1000"},
	})
	// ... and nothing else.
	noBin := loadEscape(t, rt, &memlink.Sandbox{Exec: true})
	expect(t, rt, noBin, [][2]string{{"forkexec /bin/true", "1127"}})
}

// TestSandboxProcessGroup: with Exec, the processes a module starts stay
// in the worker's process group (setsid and setpgid fail with EPERM, and
// no process can be made a child of the host with CLONE_PARENT), so the
// host's kill of the group reaches every one of them: a daemon does not
// outlive the worker.
func TestSandboxProcessGroup(t *testing.T) {
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{Exec: true})
	expect(t, rt, h, [][2]string{
		{"setsid", eperm},
		{"setpgid", eperm},
		{"cloneparent", eperm},
		{"thread setsid", eperm},
	})
	out := try(t, rt, h, "daemon")
	var pid, errno int
	if _, err := fmt.Sscanf(out, "%d %d", &pid, &errno); err != nil || pid <= 0 {
		t.Fatalf("daemon = %q", out)
	}
	if errno != int(unix.EPERM) {
		t.Errorf("the daemon's setsid: errno %d", errno)
	}
	if !alive(pid) {
		t.Fatalf("the daemon %d is not running", pid)
	}
	if err := rt.Unload(h); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			unix.Kill(pid, unix.SIGKILL)
			t.Fatalf("the daemon %d outlived its worker", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether process pid exists and is not a zombie (a killed
// daemon waits for its new parent, init, to reap it).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// TestSandboxForbiddenSyscalls: ptrace, mount and bpf end the worker with
// SIGSYS, from a call and from a module's thread, and the error names the
// system call.
func TestSandboxForbiddenSyscalls(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{Write: []string{dir}})
	for _, c := range []struct{ attempt, call string }{
		{"ptrace", "ptrace"},
		{"mount " + dir, "mount"},
		{"bpf", "bpf"},
		{"thread ptrace", "ptrace"},
		{"thread bpf", "bpf"},
	} {
		_, err := rt.Call(h, "try", []byte(c.attempt))
		ce := crashOf(t, err, "crash", "SIGSYS")
		if ce.Signal != "SIGSYS" {
			t.Errorf("%s: signal %q", c.attempt, ce.Signal)
		}
		if want := "the sandbox killed it for a forbidden system call: " + c.call; ce.Detail != want {
			t.Errorf("%s: detail %q, want %q", c.attempt, ce.Detail, want)
		}
		if !strings.Contains(err.Error(), "SIGSYS (the sandbox killed it for a forbidden system call: "+c.call+")") {
			t.Errorf("%s: %v", c.attempt, err)
		}
	}
	// memlink_init's forbidden call fails the load, named.
	_, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "escape")), memlink.WithIsolation(memlink.Isolation{Sandbox: &memlink.Sandbox{}}), memlink.WithConfig([]byte("ptrace")))
	if err == nil || !strings.Contains(err.Error(), "SIGSYS") || !strings.Contains(err.Error(), "forbidden system call: ptrace") {
		t.Errorf("Load with memlink_init calling ptrace: %v", err)
	}
	// The worker restarted under the same sandbox.
	expect(t, rt, h, [][2]string{{"read /etc/hostname", eacces}, {"udp", eacces}})
	if os.Geteuid() == 0 {
		expect(t, rt, h, [][2]string{{"setuid", eperm}, {"thread setuid", eperm}})
	}
}

func TestSandboxThreadConstructorInit(t *testing.T) {
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{})
	const confined = "read=13 udp=13 socketpair=13 fork=1 exec=13 kill=1"
	expect(t, rt, h, [][2]string{
		{"ctor", confined},
		{"init", confined},
		{"thread read /etc/hostname", eacces},
		{"thread udp", eacces},
		{"thread socketpair", eacces},
		{"thread kill 1", eperm},
	})
}

func TestSandboxPrivileges(t *testing.T) {
	t.Setenv("MEMLINK_TEST_SECRET", "hunter2")
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{})
	expect(t, rt, h, [][2]string{
		{"nnp", "1"},
		{"getenv MEMLINK_TEST_SECRET", "(unset)"},
		{"caps", "0000000000000000"},
	})
}

// TestSandboxSetuidProgram runs a setuid program (id(1), owned by
// nobody) from a sandbox that allows Exec: no_new_privs keeps its
// effective user this process's.
func TestSandboxSetuidProgram(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a setuid program of another user needs root")
	}
	idPath, err := exec.LookPath("id")
	if err != nil {
		t.Skip("no id(1) here")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	suid := filepath.Join(dir, "id")
	b, err := os.ReadFile(idPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(suid, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(suid, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{Exec: true, Read: []string{dir}})
	if got := try(t, rt, h, "runid "+suid); got != strconv.Itoa(os.Geteuid()) {
		t.Errorf("setuid program ran as %q, want %d", got, os.Geteuid())
	}
	// Unconfined, the setuid bit works: the test above tests something.
	free := loadEscape(t, rt, nil)
	if got := try(t, rt, free, "runid "+suid); got != "65534" {
		t.Errorf("unconfined, the setuid program ran as %q, want 65534", got)
	}
}

// TestSandboxSignalsWithoutLandlockScope: on a kernel whose Landlock
// cannot scope signals (ABI < 6), the seccomp filter keeps them inside
// the worker, and the worker's own runtime still signals its threads.
func TestSandboxSignalsWithoutLandlockScope(t *testing.T) {
	fakeKernel(t, 5, true)
	rt := newRuntime(t)
	h := loadEscape(t, rt, &memlink.Sandbox{})
	if rep, _ := rt.SandboxReport(h); rep.LandlockABI != 5 || !rep.Complete() {
		t.Fatalf("report = %+v", rep)
	}
	expect(t, rt, h, [][2]string{
		{"kill " + strconv.Itoa(os.Getpid()), eperm},
		{"kill 1", eperm},
		{"kill 0", done},
		{"thread kill 1", eperm},
		{"read /etc/hostname", eacces},
	})
}

// TestSandboxControl makes the same attempts without a sandbox: each of
// them works there, so each denial above is the sandbox's doing.
func TestSandboxControl(t *testing.T) {
	_, _, outDir := escapeDirs(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	mfd, err := unix.MemfdCreate("memlink-test-secret", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(mfd)
	unix.Write(mfd, []byte("secret"))
	t.Setenv("MEMLINK_TEST_SECRET", "hunter2")
	host := strconv.Itoa(os.Getpid())
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	rt := newRuntime(t)
	h := loadEscape(t, rt, nil)
	cases := [][2]string{
		{"read /etc/hostname", done},
		{"read " + filepath.Join(outDir, "f"), done},
		{"write " + filepath.Join(outDir, "f"), done},
		{"create " + filepath.Join(outDir, "new"), done},
		{"remove " + filepath.Join(outDir, "new"), done},
		{"read /proc/" + host + "/environ", done},
		{"read /proc/" + host + "/fd/" + strconv.Itoa(mfd), done},
		{"kill " + host, done},
		{"connect " + port, done},
		{"udp", done},
		{"socketpair", done},
		{"fork", done},
		{"forkexec /bin/true", "1000"},
		{"setsid", done},
		{"setpgid", done},
		{"thread udp", done},
		{"nnp", "0"},
		{"getenv MEMLINK_TEST_SECRET", "hunter2"},
		{"ctor", "read=0 udp=0 socketpair=0 fork=0 exec=2 kill=0"},
		{"init", "read=0 udp=0 socketpair=0 fork=0 exec=2 kill=0"},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, [2]string{"bpf", done}, [2]string{"mount " + t.TempDir(), done}, [2]string{"setuid", done})
	}
	expect(t, rt, h, cases)
}

func TestSandboxReloadKeepsPolicy(t *testing.T) {
	rt := newRuntime(t)
	sb := &memlink.Sandbox{}
	h := loadEscape(t, rt, sb)
	sb.Network = true // the handle's policy is a copy: this changes nothing
	path := modtest.Path(t, "escape")
	if _, err := rt.Reload(h, memlink.MustParseRef(path), hotreload.Config{}); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if u, _ := rt.Usage(h); u.Generation != 2 {
		t.Fatalf("generation %d after reload", u.Generation)
	}
	expect(t, rt, h, [][2]string{
		{"read /etc/hostname", eacces},
		{"udp", eacces},
		{"ctor", "read=13 udp=13 socketpair=13 fork=1 exec=13 kill=1"},
	})
	rep, ok := rt.SandboxReport(h)
	if !ok || rep.Granted.Network || !rep.Complete() || rep.LandlockABI < sandbox.LandlockFS || !rep.Seccomp {
		t.Errorf("report after reload: %+v, %v", rep, ok)
	}
}

// fakeKernel makes the sandbox see a kernel with only the features given
// until the test ends.
func fakeKernel(t *testing.T, landlock int, seccomp bool) {
	real := sandbox.Probe
	t.Cleanup(func() { sandbox.Probe = real })
	have := real()
	if have.Landlock < sandbox.LandlockFS || !have.Seccomp {
		t.Skipf("this kernel cannot enforce a sandbox (%s)", have.Reason)
	}
	sandbox.Probe = func() sandbox.Features {
		return sandbox.Features{Landlock: landlock, Seccomp: seccomp, Reason: "faked by the test"}
	}
}

func TestSandboxUnsupportedKernel(t *testing.T) {
	for _, k := range []struct {
		landlock int
		seccomp  bool
		want     string
	}{
		{0, true, "Landlock"},
		{2, true, "Landlock ABI 3"},
		{7, false, "seccomp"},
	} {
		t.Run(fmt.Sprintf("landlock%d-seccomp%v", k.landlock, k.seccomp), func(t *testing.T) {
			fakeKernel(t, k.landlock, k.seccomp)
			rt := newRuntime(t)
			_, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "escape")), memlink.WithIsolation(memlink.Isolation{Sandbox: &memlink.Sandbox{}}))
			if !errors.Is(err, memlink.ErrSandboxUnsupported) || !strings.Contains(err.Error(), k.want) {
				t.Fatalf("Load = %v, want ErrSandboxUnsupported naming %q", err, k.want)
			}
		})
	}
}

func TestSandboxBestEffort(t *testing.T) {
	t.Run("no-landlock", func(t *testing.T) {
		fakeKernel(t, 0, true)
		rt := newRuntime(t)
		h := loadEscape(t, rt, &memlink.Sandbox{BestEffort: true})
		rep, ok := rt.SandboxReport(h)
		if !ok || rep.Complete() || rep.LandlockABI != 0 || !rep.Seccomp || len(rep.Missing) != 1 || !strings.Contains(rep.Missing[0], "file system") {
			t.Fatalf("report = %+v, %v", rep, ok)
		}
		// What the report says is missing is missing, and the rest holds.
		expect(t, rt, h, [][2]string{{"read /etc/hostname", done}, {"udp", eacces}, {"fork", eperm}})
	})
	t.Run("no-seccomp", func(t *testing.T) {
		fakeKernel(t, 7, false)
		rt := newRuntime(t)
		h := loadEscape(t, rt, &memlink.Sandbox{BestEffort: true})
		rep, _ := rt.SandboxReport(h)
		if rep.Complete() || rep.LandlockABI != 7 || rep.Seccomp || len(rep.Missing) != 1 || !strings.Contains(rep.Missing[0], "no network") {
			t.Fatalf("report = %+v", rep)
		}
		expect(t, rt, h, [][2]string{{"read /etc/hostname", eacces}, {"udp", done}, {"nnp", "1"}})
	})
}

func TestSandboxBadPolicy(t *testing.T) {
	rt := newRuntime(t)
	for _, sb := range []memlink.Sandbox{
		{Read: []string{"relative/dir"}},
		{Write: []string{filepath.Join(t.TempDir(), "missing")}},
	} {
		_, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "escape")), memlink.WithIsolation(memlink.Isolation{Sandbox: &sb}))
		if err == nil || errors.Is(err, memlink.ErrSandboxUnsupported) {
			t.Errorf("Load with %+v = %v, want a policy error", sb, err)
		}
	}
	if _, ok := rt.SandboxReport(0); ok {
		t.Error("SandboxReport(0) ok")
	}
}

// TestSandboxManifest: a registry module declares what it needs; a host
// granting less is refused before anything of the module runs.
func TestSandboxManifest(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	reg := &memlink.Registry{Dir: dir}
	if err := reg.Publish("escape", "1.0.0", modtest.Path(t, "escape")); err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, "escape", "1.0.0", memlink.ManifestFile)
	b, err := os.ReadFile(mpath)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	raw["sandbox"] = map[string]any{"read": []string{data + "/sub"}, "network": true}
	b, _ = json.Marshal(raw)
	if err := os.WriteFile(mpath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rt := newRuntime(t, memlink.WithRegistry(dir))
	ref := memlink.MustParseRef("escape@1.0.0")
	for _, c := range []struct {
		sb   *memlink.Sandbox
		want string // "" loads
	}{
		{&memlink.Sandbox{}, "read " + data + "/sub, network"},
		{&memlink.Sandbox{Read: []string{data}}, "asks for network,"},
		{&memlink.Sandbox{Write: []string{data}, Network: true}, ""},
		{nil, ""}, // unconfined: everything is granted
	} {
		h, err := rt.Load(ref, memlink.WithIsolation(memlink.Isolation{Sandbox: c.sb}))
		skipWithoutExec(t, err)
		if errors.Is(err, memlink.ErrSandboxUnsupported) {
			t.Skipf("no sandbox here: %v", err)
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.sb, err)
		case c.want != "" && (!errors.Is(err, memlink.ErrSandboxTooNarrow) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: err = %v, want ErrSandboxTooNarrow naming %q", c.sb, err, c.want)
		}
		if err == nil {
			rt.Unload(h)
		}
	}
	if m, err := memlink.ParseManifest(b); err != nil || m.Sandbox == nil || !m.Sandbox.Network || len(m.Sandbox.Read) != 1 {
		t.Errorf("ParseManifest: %+v, %v", m.Sandbox, err)
	}
	// The sandbox declaration is read as strictly as the rest.
	for bad, want := range map[string]string{
		`{"network":"yes"}`:             "want true or false",
		`{"read":"/x"}`:                 "want an array",
		`{"READ":["/x"]}`:               `unknown key "sandbox.READ"`,
		`{"read":["/x"],"read":["/y"]}`: "duplicate key",
		`{"write":["rel"]}`:             "not absolute",
		`{"best_effort":true}`:          "unknown key",
	} {
		raw["sandbox"] = json.RawMessage(bad)
		b, _ := json.Marshal(raw)
		if _, err := memlink.ParseManifest(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("sandbox %s: %v, want %q", bad, err, want)
		}
	}
}

// TestSandboxMemoryLimit: a sandboxed worker still measures itself for
// MemoryLimit (through the /proc/<pid>/status descriptor the host sends it).
func TestSandboxMemoryLimit(t *testing.T) {
	rt := newRuntime(t)
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "escape")), memlink.WithIsolation(memlink.Isolation{MemoryLimit: 64 << 20, Sandbox: &memlink.Sandbox{}}))
	skipWithoutExec(t, err)
	if errors.Is(err, memlink.ErrSandboxUnsupported) {
		t.Skipf("no sandbox here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rt, h, [][2]string{{"read /proc/self/status", eacces}, {"udp", eacces}})
}
