//go:build amd64 || arm64

package sandbox

import (
	"encoding/binary"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// run evaluates a classic BPF filter on one struct seccomp_data, with
// the instructions the filter uses, and fails on any other.
func run(t *testing.T, p prog, nr uintptr, arch uint32, args ...uint64) uint32 {
	t.Helper()
	var data [64]byte
	binary.LittleEndian.PutUint32(data[0:], uint32(nr))
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.Code {
		case ldAbs:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case jeq, jge, jset:
			var hit bool
			switch in.Code {
			case jeq:
				hit = acc == in.K
			case jge:
				hit = acc >= in.K
			default:
				hit = acc&in.K != 0
			}
			if hit {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case ret:
			return in.K
		default:
			t.Fatalf("instruction %d: code %#x", pc, in.Code)
		}
	}
	t.Fatal("filter fell off its end")
	return 0
}

func TestFilter(t *testing.T) {
	const pid = 4242
	pidVar := int32(pid)
	const thread = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM
	closed := buildFilter(&Plan{Landlock: 5}, pid)
	open := buildFilter(&Plan{Landlock: 7, Policy: Policy{Network: true, Exec: true}}, pid)
	if len(closed) > 255*4 || len(open) > 255*4 {
		t.Fatalf("filters of %d and %d instructions", len(closed), len(open))
	}
	cases := []struct {
		name string
		p    prog
		nr   uintptr
		arch uint32
		args []uint64
		want uint32
	}{
		{"futex", closed, unix.SYS_FUTEX, auditArch, nil, retAllow},
		{"openat", closed, unix.SYS_OPENAT, auditArch, nil, retAllow},
		{"other arch", closed, unix.SYS_FUTEX, unix.AUDIT_ARCH_I386, nil, retKill},
		{"thread", closed, unix.SYS_CLONE, auditArch, []uint64{thread}, retAllow},
		{"process", closed, unix.SYS_CLONE, auditArch, []uint64{uint64(unix.SIGCHLD)}, retEPERM},
		{"process, Exec", open, unix.SYS_CLONE, auditArch, []uint64{uint64(unix.SIGCHLD)}, retAllow},
		{"CLONE_PARENT, Exec", open, unix.SYS_CLONE, auditArch, []uint64{unix.CLONE_PARENT | uint64(unix.SIGCHLD)}, retEPERM},
		{"thread with CLONE_PARENT, Exec", open, unix.SYS_CLONE, auditArch, []uint64{thread | unix.CLONE_PARENT}, retAllow},
		{"setsid, Exec", open, unix.SYS_SETSID, auditArch, nil, retEPERM},
		{"setpgid, Exec", open, unix.SYS_SETPGID, auditArch, []uint64{0, 0}, retEPERM},
		{"thread in a new netns", open, unix.SYS_CLONE, auditArch, []uint64{thread | unix.CLONE_NEWNET}, retEPERM},
		{"clone3", open, unix.SYS_CLONE3, auditArch, nil, retENOSYS},
		{"execve", closed, unix.SYS_EXECVE, auditArch, nil, retEACCES},
		{"execve, Exec", open, unix.SYS_EXECVE, auditArch, nil, retAllow},
		{"socket", closed, unix.SYS_SOCKET, auditArch, []uint64{unix.AF_UNIX}, retEACCES},
		{"socket, Network", open, unix.SYS_SOCKET, auditArch, []uint64{unix.AF_INET}, retAllow},
		{"socketpair", closed, unix.SYS_SOCKETPAIR, auditArch, nil, retEACCES},
		{"io_uring", open, unix.SYS_IO_URING_SETUP, auditArch, nil, retEPERM},
		{"ptrace", open, unix.SYS_PTRACE, auditArch, nil, retTrap},
		{"mount", open, unix.SYS_MOUNT, auditArch, nil, retTrap},
		{"bpf", open, unix.SYS_BPF, auditArch, nil, retTrap},
		{"setuid", open, unix.SYS_SETUID, auditArch, nil, retEPERM},
		{"TIOCSTI", open, unix.SYS_IOCTL, auditArch, []uint64{1, unix.TIOCSTI}, retEPERM},
		{"TCGETS", open, unix.SYS_IOCTL, auditArch, []uint64{1, unix.TCGETS}, retAllow},
		{"kill self", closed, unix.SYS_KILL, auditArch, []uint64{pid, 0}, retAllow},
		{"kill group", closed, unix.SYS_KILL, auditArch, []uint64{0, 0}, retAllow},
		{"kill -group", closed, unix.SYS_KILL, auditArch, []uint64{uint64(uint32(-pidVar)), 0}, retAllow},
		{"kill other", closed, unix.SYS_KILL, auditArch, []uint64{1, 0}, retEPERM},
		{"kill all", closed, unix.SYS_KILL, auditArch, []uint64{uint64(^uint32(0)), 0}, retEPERM},
		{"tgkill self", closed, unix.SYS_TGKILL, auditArch, []uint64{pid, 7, 23}, retAllow},
		{"tgkill other", closed, unix.SYS_TGKILL, auditArch, []uint64{1, 1, 9}, retEPERM},
		{"kill other, Landlock scope", open, unix.SYS_KILL, auditArch, []uint64{1, 0}, retAllow},
	}
	for _, c := range cases {
		if got := run(t, c.p, c.nr, c.arch, c.args...); got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestNewPlan(t *testing.T) {
	full := Features{Landlock: 7, Seccomp: true}
	if _, err := NewPlan(Policy{Read: []string{"rel"}}, full); err == nil {
		t.Error("relative path accepted")
	}
	pl, err := NewPlan(Policy{Read: []string{"/a/../b/"}}, full)
	if err != nil || pl.Read[0] != "/b" || pl.Landlock != 7 || !pl.Seccomp || len(pl.Missing) != 0 {
		t.Errorf("plan = %+v, %v", pl, err)
	}
	if _, err := NewPlan(Policy{}, Features{Landlock: 2, Seccomp: true}); err == nil {
		t.Error("Landlock ABI 2 accepted")
	}
	pl, err = NewPlan(Policy{BestEffort: true}, Features{Landlock: 2})
	if err != nil || pl.Landlock != 0 || pl.Seccomp || len(pl.Missing) != 2 {
		t.Errorf("best effort plan = %+v, %v", pl, err)
	}
}

func TestWorkerEnv(t *testing.T) {
	env, err := WorkerEnv([]string{"HOME=/root", "AWS_SECRET=x", "GOMAXPROCS=2", "MARK=1", "MARKER=2"}, &Plan{}, "MARK=")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"GOMAXPROCS=2": true, "MARK=1": true}
	if len(env) != 3 || env[0][:len(EnvPlan)+1] != EnvPlan+"=" || !want[env[1]] || !want[env[2]] {
		t.Errorf("env = %q", env)
	}
}

func TestForbidden(t *testing.T) {
	cases := []struct {
		cell uint64
		name string
		ok   bool
	}{
		{uint64(unix.SYS_PTRACE)<<32 | auditArch, "ptrace", true},
		{uint64(unix.SYS_BPF)<<32 | auditArch, "bpf", true},
		{uint64(unix.SYS_READ)<<32 | auditArch, "system call " + strconv.Itoa(unix.SYS_READ), true},
		{uint64(unix.SYS_PTRACE)<<32 | unix.AUDIT_ARCH_I386, "", false},
		{0, "", false},
	}
	for _, c := range cases {
		if name, ok := Forbidden(c.cell); name != c.name || ok != c.ok {
			t.Errorf("Forbidden(%#x) = %q, %v; want %q, %v", c.cell, name, ok, c.name, c.ok)
		}
	}
}
