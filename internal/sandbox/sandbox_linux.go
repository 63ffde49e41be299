package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
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

// envStage marks the confined image (stage 2) and carries what stage 1
// hands it: "2:<fd of /proc/self/status>".
const envStage = "MEMLINK_ISOLATE_SANDBOX_STAGE"

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

// statusFD is the descriptor of /proc/self/status that stage 1 opened for
// stage 2, or -1. The sandbox grants nothing in /proc (the host's
// /proc/<pid>/environ is there), but the worker measures its own memory
// there before it sets MemoryLimit; a descriptor opened before the
// restriction still reads, and it reads the same process after the exec.
var (
	statusFD   = -1
	statusOnce sync.Once
	status     *os.File
)

// StatusFile returns a descriptor of the worker's own /proc/self/status
// opened before the sandbox was in force, or nil outside a sandboxed
// worker. Read it with ReadAt, from offset 0: the file's contents are made
// afresh by every read from the start.
func StatusFile() *os.File {
	statusOnce.Do(func() {
		if statusFD >= 0 {
			status = os.NewFile(uintptr(statusFD), "/proc/self/status")
		}
	})
	return status
}

// Enter confines a sandboxed worker; it does nothing in a process whose
// environment holds no plan. In stage 1 it does not return on success: the
// process goes on as stage 2, which installs the seccomp filter and
// returns. It must be called from an init function, on the main thread,
// before the worker does anything else.
func Enter() error {
	enc, ok := os.LookupEnv(EnvPlan)
	if !ok {
		return nil
	}
	pl, err := decodePlan(enc)
	if err != nil {
		return err
	}
	stage, isStage2 := os.LookupEnv(envStage)
	if !isStage2 {
		return stage1(pl)
	}
	fd, err := strconv.Atoi(strings.TrimPrefix(stage, "2:"))
	if err != nil {
		return errors.New("bad sandbox stage marker")
	}
	statusFD = fd
	os.Unsetenv(EnvPlan)
	os.Unsetenv(envStage)
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

// stage1 restricts this thread and executes the program again from it.
func stage1(pl *Plan) error {
	runtime.LockOSThread() // for ever: this thread is about to be replaced
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	status, err := unix.Open("/proc/self/status", unix.O_RDONLY, 0) // no O_CLOEXEC: for stage 2
	if err != nil {
		return err
	}
	env := append(os.Environ(), envStage+"=2:"+strconv.Itoa(status))
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
	argv0 := "memlink-worker"
	if len(os.Args) > 0 {
		argv0 = os.Args[0]
	}
	// The thread is confined; what runs next is confined from its first
	// instruction. exe stays open (close-on-exec) so that /proc/self/exe
	// cannot have changed meaning: it is the image this process runs.
	err = unix.Exec("/proc/self/exe", []string{argv0}, env)
	return fmt.Errorf("executing the confined worker: %w", err)
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
