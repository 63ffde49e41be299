//go:build amd64 || arm64

package sandbox

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompArch reports that this architecture has a filter.
const seccompArch = true

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // each argument is 8 bytes, low half first (little-endian)
)

// Filter results.
const (
	retAllow  = unix.SECCOMP_RET_ALLOW
	retKill   = unix.SECCOMP_RET_KILL_PROCESS
	retTrap   = unix.SECCOMP_RET_TRAP // SIGSYS, which the worker records and dies of
	retEPERM  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retEACCES = unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)
	retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
)

// killed are the system calls no module has business making; one kills
// the worker with SIGSYS (through the trap handler, sigsys_linux.go, which
// first records which call it was). Debugging and reading other
// processes, changing the mount table, loading BPF programs, kernel
// modules or kernels, rebooting, swapping, opening files by handle (which
// skips paths, and so Landlock). Each has its name, for messages.
var killed = append([]namedCall{
	{unix.SYS_PTRACE, "ptrace"},
	{unix.SYS_PROCESS_VM_READV, "process_vm_readv"},
	{unix.SYS_PROCESS_VM_WRITEV, "process_vm_writev"},
	{unix.SYS_MOUNT, "mount"},
	{unix.SYS_UMOUNT2, "umount2"},
	{unix.SYS_PIVOT_ROOT, "pivot_root"},
	{unix.SYS_MOUNT_SETATTR, "mount_setattr"},
	{unix.SYS_OPEN_TREE, "open_tree"},
	{unix.SYS_MOVE_MOUNT, "move_mount"},
	{unix.SYS_FSOPEN, "fsopen"},
	{unix.SYS_FSCONFIG, "fsconfig"},
	{unix.SYS_FSMOUNT, "fsmount"},
	{unix.SYS_FSPICK, "fspick"},
	{unix.SYS_BPF, "bpf"},
	{unix.SYS_PERF_EVENT_OPEN, "perf_event_open"},
	{unix.SYS_KEXEC_LOAD, "kexec_load"},
	{unix.SYS_KEXEC_FILE_LOAD, "kexec_file_load"},
	{unix.SYS_INIT_MODULE, "init_module"},
	{unix.SYS_FINIT_MODULE, "finit_module"},
	{unix.SYS_DELETE_MODULE, "delete_module"},
	{unix.SYS_REBOOT, "reboot"},
	{unix.SYS_SWAPON, "swapon"},
	{unix.SYS_SWAPOFF, "swapoff"},
	{unix.SYS_ACCT, "acct"},
	{unix.SYS_OPEN_BY_HANDLE_AT, "open_by_handle_at"},
	{unix.SYS_QUOTACTL, "quotactl"},
	{unix.SYS_QUOTACTL_FD, "quotactl_fd"},
	{unix.SYS_NFSSERVCTL, "nfsservctl"},
	{unix.SYS_LOOKUP_DCOOKIE, "lookup_dcookie"},
}, archKilled...)

// namedCall is a system call's number and name.
type namedCall struct {
	nr   uintptr
	name string
}

// denied fail with EPERM, as they would for a process without privileges:
// changing identity or capabilities, namespaces, the kernel's clock, key
// rings and log, io_uring (whose operations seccomp cannot see: it would
// open sockets behind the filter's back), userfaultfd, System V IPC (keyed
// by numbers, not paths, so out of Landlock's reach), another process's
// descriptors.
var denied = []uintptr{
	unix.SYS_SETUID, unix.SYS_SETGID, unix.SYS_SETREUID, unix.SYS_SETREGID,
	unix.SYS_SETRESUID, unix.SYS_SETRESGID, unix.SYS_SETFSUID, unix.SYS_SETFSGID,
	unix.SYS_SETGROUPS, unix.SYS_CAPSET,
	unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_CHROOT,
	unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_ADJTIME, unix.SYS_ADJTIMEX,
	unix.SYS_SETHOSTNAME, unix.SYS_SETDOMAINNAME, unix.SYS_SYSLOG,
	unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY, unix.SYS_KEYCTL,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_USERFAULTFD, unix.SYS_PIDFD_GETFD,
	unix.SYS_SHMGET, unix.SYS_SHMAT, unix.SYS_SHMCTL, unix.SYS_SHMDT,
	unix.SYS_MSGGET, unix.SYS_MSGSND, unix.SYS_MSGRCV, unix.SYS_MSGCTL,
	unix.SYS_SEMGET, unix.SYS_SEMOP, unix.SYS_SEMCTL, unix.SYS_SEMTIMEDOP,
	unix.SYS_TKILL, // a thread id of anyone's; tgkill names the process
	// Leaving the worker's process group, which is how the host finds
	// the processes a module started (Exec) to kill them with the worker:
	// no daemon outlives it.
	unix.SYS_SETSID, unix.SYS_SETPGID,
}

// Clone flags the filter looks at.
const (
	cloneThread = 0x00010000
	cloneParent = 0x00008000
	// cloneNewNS are the namespace flags: no new namespace, thread or
	// process.
	cloneNewNS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
)

// ttyIoctls are the ioctls that act on a terminal's other users: pushing
// input into it (TIOCSTI) and the console's TIOCLINUX. The worker shares
// the host's standard output and error, which may be a terminal opened
// before the sandbox, so Landlock's device ioctl rule does not cover them.
var ttyIoctls = []uint32{0x5412, 0x541C}

// prog assembles a classic BPF program.
type prog []unix.SockFilter

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

const (
	ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	jset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	ret   = unix.BPF_RET | unix.BPF_K
)

// ret returns action for system call nr.
func (p *prog) ret(nr uintptr, action uint32) {
	*p = append(*p, jump(jeq, uint32(nr), 0, 1), stmt(ret, action))
}

// block runs body for system call nr. Every path through body must end
// in a return, so that the accumulator still holds nr after the block.
func (p *prog) block(nr uintptr, body ...unix.SockFilter) {
	*p = append(*p, jump(jeq, uint32(nr), 0, uint8(len(body))))
	*p = append(*p, body...)
}

// arg0Self is a block body allowing a call whose first argument (a pid
// or thread group id) is this process, and when zeroOK also 0 or -pid
// (this process group), and failing others with EPERM.
func arg0Self(pid uint32, group bool) []unix.SockFilter {
	if !group {
		return []unix.SockFilter{stmt(ldAbs, offArg0), jump(jeq, pid, 1, 0), stmt(ret, retEPERM), stmt(ret, retAllow)}
	}
	return []unix.SockFilter{
		stmt(ldAbs, offArg0),
		jump(jeq, pid, 3, 0),
		jump(jeq, 0, 2, 0),
		jump(jeq, uint32(-int32(pid)), 1, 0),
		stmt(ret, retEPERM),
		stmt(ret, retAllow),
	}
}

// buildFilter returns the filter for a plan, for process pid.
func buildFilter(pl *Plan, pid int) prog {
	var p prog
	// Another architecture's system calls (i386 through int 0x80, x32)
	// would have other numbers: none of them is allowed.
	p = append(p, stmt(ldAbs, offArch), jump(jeq, auditArch, 1, 0), stmt(ret, retKill), stmt(ldAbs, offNr))
	p = append(p, archCheck...)
	// The calls a worker makes while serving go first.
	for _, nr := range []uintptr{unix.SYS_FUTEX, unix.SYS_SCHED_YIELD, unix.SYS_NANOSLEEP, unix.SYS_READ, unix.SYS_WRITE, unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MADVISE, unix.SYS_RT_SIGRETURN, unix.SYS_RT_SIGPROCMASK} {
		p.ret(nr, retAllow)
	}
	for _, k := range killed {
		p.ret(k.nr, retTrap)
	}
	for _, nr := range denied {
		p.ret(nr, retEPERM)
	}
	p.ret(unix.SYS_CLONE3, retENOSYS) // its flags are behind a pointer: libc falls back to clone
	cloneBody := []unix.SockFilter{stmt(ldAbs, offArg0), jump(jset, cloneNewNS, 0, 1), stmt(ret, retEPERM)}
	if pl.Exec {
		// A process, but not one whose parent is the worker's parent
		// (the host would get a child it does not know of).
		cloneBody = append(cloneBody, jump(jset, cloneThread, 2, 0), jump(jset, cloneParent, 0, 1), stmt(ret, retEPERM), stmt(ret, retAllow))
	} else {
		cloneBody = append(cloneBody, jump(jset, cloneThread, 0, 1), stmt(ret, retAllow), stmt(ret, retEPERM))
		for _, nr := range []uintptr{unix.SYS_EXECVE, unix.SYS_EXECVEAT} {
			p.ret(nr, retEACCES)
		}
		for _, nr := range archFork {
			p.ret(nr, retEPERM)
		}
	}
	p.block(unix.SYS_CLONE, cloneBody...)
	if !pl.Network {
		p.ret(unix.SYS_SOCKET, retEACCES)
		p.ret(unix.SYS_SOCKETPAIR, retEACCES)
	}
	ioctl := []unix.SockFilter{stmt(ldAbs, offArg0+8)}
	for i, cmd := range ttyIoctls {
		ioctl = append(ioctl, jump(jeq, cmd, uint8(len(ttyIoctls)-i), 0))
	}
	ioctl = append(ioctl, stmt(ret, retAllow), stmt(ret, retEPERM))
	p.block(unix.SYS_IOCTL, ioctl...)
	if pl.Landlock < landlockScope {
		// Without Landlock's signal scope, signals may go to this
		// process (and its group) only.
		self := uint32(pid)
		p.block(unix.SYS_KILL, arg0Self(self, true)...)
		for _, nr := range []uintptr{unix.SYS_TGKILL, unix.SYS_RT_SIGQUEUEINFO, unix.SYS_RT_TGSIGQUEUEINFO, unix.SYS_PIDFD_OPEN} {
			p.block(nr, arg0Self(self, false)...)
		}
	}
	p = append(p, stmt(ret, retAllow))
	return p
}

// installSeccomp installs the plan's filter on every thread of this
// process.
func installSeccomp(pl *Plan) error {
	p := buildFilter(pl, os.Getpid())
	fprog := unix.SockFprog{Len: uint16(len(p)), Filter: &p[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	if r != 0 {
		return fmt.Errorf("thread %d could not take the filter", r)
	}
	return nil
}
