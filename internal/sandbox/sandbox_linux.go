package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock ABI versions of optional features.
const (
	// landlockNet adds TCP bind and connect rules (ABI 4, Linux 6.7): a
	// second wall behind seccomp's socket denial.
	landlockNet = 4
	// landlockIoctl controls ioctl on device files (ABI 5, Linux 6.10).
	landlockIoctl = 5
	// landlockScope keeps signals and abstract UNIX sockets inside the
	// sandbox (ABI 6, Linux 6.12).
	landlockScope = 6
)

func decodePlan(s string) (*Plan, error) {
	var pl Plan
	if err := json.Unmarshal([]byte(s), &pl); err != nil {
		return nil, errors.New("bad sandbox plan: " + err.Error())
	}
	return &pl, nil
}

// Supported reports whether this platform has a sandbox at all.
const Supported = true

// Probe returns what the running kernel can enforce. It is a variable so
// that tests can pretend to run on a kernel without some feature.
var Probe = probeKernel

func probeKernel() Features {
	var f Features
	var why []string
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno == 0 {
		f.Landlock = int(v)
	} else {
		why = append(why, "landlock: "+errno.Error())
	}
	// SECCOMP_GET_ACTION_AVAIL answers only where filters exist, and
	// KILL_PROCESS (Linux 4.14) is the newest action the filter uses.
	action := uint32(unix.SECCOMP_RET_KILL_PROCESS)
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&action))); errno == 0 {
		f.Seccomp = seccompArch
	} else {
		why = append(why, "seccomp: "+errno.Error())
	}
	if !seccompArch {
		why = append(why, "seccomp: no filter for "+runtime.GOARCH)
	}
	f.Reason = strings.Join(why, ", ")
	return f
}

// statusFD is the descriptor of the worker's /proc/<pid>/status that the
// host sent it, or -1. The sandbox grants nothing in /proc (the host's
// /proc/<pid>/environ is there), but the worker measures its own memory
// there before it sets MemoryLimit; a descriptor opened by the host still
// reads.
var (
	statusFD   = -1
	statusOnce sync.Once
	status     *os.File
)

// StatusFile returns a descriptor of the worker's own /proc/<pid>/status,
// opened by the host, or nil outside a sandboxed worker or when the host
// sent none. Read it with ReadAt, from offset 0: the file's contents are
// made afresh by every read from the start.
func StatusFile() *os.File {
	statusOnce.Do(func() {
		if statusFD >= 0 {
			status = os.NewFile(uintptr(statusFD), "/proc/self/status")
		}
	})
	return status
}

// Enter completes the confinement of a sandboxed worker, which the host
// started already confined (StartConfined); it does nothing in a process
// whose environment holds no plan. It receives the status descriptor when
// the host sends one, installs the seccomp filter on every thread and
// returns. It must be called from an init function, before the worker
// does anything else.
func Enter() error {
	enc, ok := os.LookupEnv(EnvPlan)
	if !ok {
		return nil
	}
	pl, err := decodePlan(enc)
	if err != nil {
		return err
	}
	sock, hasStatus := os.LookupEnv(EnvStatus)
	os.Unsetenv(EnvPlan)
	os.Unsetenv(EnvStatus)
	// The host confined the thread it forked this process from; a worker
	// started any other way must not run as if it were sandboxed.
	if nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); err != nil || nnp != 1 {
		return errors.New("the worker was not started confined")
	}
	if pl.Landlock > 0 && !slices.Contains(pl.Read, "/") && !slices.Contains(pl.Write, "/") {
		// Nothing grants the root directory: listing it must fail.
		if fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
			unix.Close(fd)
			return errors.New("the worker was started without its Landlock domain")
		}
	}
	if hasStatus {
		fd, err := strconv.Atoi(sock)
		if err != nil {
			return errors.New("bad sandbox status socket")
		}
		if statusFD, err = receiveFD(fd); err != nil {
			return fmt.Errorf("receiving /proc/self/status: %w", err)
		}
	}
	if pl.Seccomp {
		if err := installSeccomp(pl); err != nil {
			return fmt.Errorf("seccomp: %w", err)
		}
		trapping = true
	}
	return nil
}

// trapping is set once this process's seccomp filter is in force.
var trapping bool

// Trapping reports whether this process runs under the sandbox's seccomp
// filter, whose forbidden system calls raise SIGSYS (see CatchForbidden).
func Trapping() bool { return trapping }

// receiveFD reads one descriptor from the UNIX socket sock and closes
// sock.
func receiveFD(sock int) (int, error) {
	defer unix.Close(sock)
	var b [1]byte
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(sock, b[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, err
		}
		if n == 0 && oobn == 0 {
			return -1, errors.New("the host closed the socket")
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return -1, errors.New("no descriptor")
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return -1, errors.New("no single descriptor")
		}
		return fds[0], nil
	}
}

// StartConfined runs start, which starts a worker process, on a new
// operating system thread that first confines itself by the plan: it sets
// no_new_privs, empties its capability sets and restricts itself with
// Landlock. All three are properties of a thread, and a process inherits
// those of the thread that forks it (syscall.ForkExec clones from the
// calling thread), so the worker's program starts confined, before its
// first instruction, and everything it ever starts is too. The thread is
// never given back to the Go runtime (runtime.LockOSThread without its
// Unlock), so it ends with its goroutine and nothing else ever runs on
// it; the runtime starts no thread from a locked one (it hands that to its
// template thread), so the host's other threads keep all their rights; and
// it is never the main thread (see onThrowawayThread).
// exe is the program the worker runs, granted for execution.
//
// When status is not nil, start must pass its Child end to the worker
// (see WorkerEnv); StartConfined then sends the worker a descriptor of its
// /proc/<pid>/status on it, since the worker cannot open one itself, and
// closes both ends.
func StartConfined(pl *Plan, exe *os.File, status *StatusSocket, start func() (pid int, err error)) error {
	// The os package checks once per process whether pidfds work, by
	// signalling itself: from a thread whose signals Landlock keeps inside
	// its domain, that check would fail and the host would stop using
	// pidfds altogether. Have it done here first.
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Release() // only the check was wanted
	}
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go onThrowawayThread(func() {
		if err := confine(pl, exe); err != nil {
			done <- result{err: err}
			return
		}
		pid, err := start()
		done <- result{pid, err}
	})
	r := <-done
	if r.err == nil && status != nil {
		// A worker that does not get it fails to start and says why.
		_ = status.send(r.pid)
	}
	return r.err
}

// onThrowawayThread runs fn on an operating system thread that ends with
// it: it locks the goroutine to its thread and never unlocks it. The
// process's main thread must not be the one (it cannot end, and the kernel
// looks at it for what concerns the whole process: Landlock would let the
// sandbox signal the host if the main thread were in its domain), and any
// goroutine may run on it, so a goroutine that finds itself there hands
// fn to another, which cannot be scheduled on the main thread while this
// one holds it, and gives the main thread back.
func onThrowawayThread(fn func()) {
	runtime.LockOSThread()
	if unix.Gettid() != unix.Getpid() {
		fn() // and the thread ends with this goroutine
		return
	}
	defer runtime.UnlockOSThread()
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		onThrowawayThread(fn)
	}()
	<-ran
}

// confine applies the thread-level part of the plan to this thread.
func confine(pl *Plan, exe *os.File) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := dropCapabilities(); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	if pl.Landlock > 0 {
		if err := restrictLandlock(pl, exe); err != nil {
			return fmt.Errorf("landlock: %w", err)
		}
	}
	return nil
}

// StatusSocket is the host's end of the socket on which a sandboxed
// worker gets its status descriptor, and the worker's end until the
// worker has started.
type StatusSocket struct {
	host, Child *os.File
}

// NewStatusSocket makes the pair of sockets.
func NewStatusSocket() (*StatusSocket, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	return &StatusSocket{host: os.NewFile(uintptr(fds[0]), "status socket"), Child: os.NewFile(uintptr(fds[1]), "status socket")}, nil
}

// Close closes the pair; it may be called again after StartConfined.
func (s *StatusSocket) Close() {
	if s == nil {
		return
	}
	_ = s.host.Close() // closing twice only reports os.ErrClosed
	_ = s.Child.Close()
}

// send opens /proc/<pid>/status and sends it to the worker pid.
func (s *StatusSocket) send(pid int) error {
	defer s.Close() // the worker has its copy of Child
	f, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(f)
	return unix.Sendmsg(int(s.host.Fd()), []byte{0}, unix.UnixRights(f), nil, unix.MSG_NOSIGNAL)
}

// dropCapabilities empties the bounding, ambient and inheritable
// capability sets of this thread, so that the next image, even one run by
// root, starts with no capabilities at all: after an execve a process has
// at most the bounding set, and no_new_privs keeps setuid and file
// capabilities from adding any. A process without CAP_SETPCAP has no
// capabilities to lose from the bounding set (root without it is already
// confined by its own bounding set), so EPERM there is not an error.
func dropCapabilities() error {
	for c := 0; c <= 63; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			if err == unix.EINVAL {
				break // past the last capability this kernel knows
			}
			if err == unix.EPERM {
				break
			}
			return err
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	if data[0].Inheritable == 0 && data[1].Inheritable == 0 {
		return nil
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	return unix.Capset(&hdr, &data[0])
}
