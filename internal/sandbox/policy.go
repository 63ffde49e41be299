package sandbox

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Policy is what a sandboxed module may do beyond loading and running.
type Policy struct {
	// Read lists files and directory trees the module may read.
	Read []string `json:"read,omitempty"`
	// Write lists files and directory trees the module may read, write,
	// create entries in, rename within and remove from.
	Write []string `json:"write,omitempty"`
	// Network allows sockets of every kind; false denies socket(2) and
	// socketpair(2) outright.
	Network bool `json:"network,omitempty"`
	// Exec allows new processes and programs; false denies execve,
	// execveat, fork and clone without CLONE_THREAD.
	Exec bool `json:"exec,omitempty"`
	// BestEffort enforces what the kernel can and reports the rest
	// (Plan.Missing) instead of refusing.
	BestEffort bool `json:"best_effort,omitempty"`
}

// Features are what a kernel can enforce.
type Features struct {
	// Landlock is the Landlock ABI version, 0 when Landlock is missing or
	// disabled.
	Landlock int
	// Seccomp reports seccomp filters with SECCOMP_RET_KILL_PROCESS
	// (Linux 4.14).
	Seccomp bool
	// Reason says why a feature is missing, for messages ("landlock:
	// function not implemented").
	Reason string
}

// Minimum Landlock ABI versions for the guarantees that need them.
const (
	// LandlockFS is the least ABI that confines the file system without a
	// gap: ABI 3 (Linux 6.2) controls truncate(2), which ABI 1 and 2 let
	// through on any file.
	LandlockFS = 3
)

// Plan is a Policy and what the worker enforces of it on this kernel.
type Plan struct {
	Policy
	// Landlock is the Landlock ABI the worker uses, 0 for none.
	Landlock int `json:"landlock,omitempty"`
	// Seccomp reports that the worker installs its seccomp filter.
	Seccomp bool `json:"seccomp,omitempty"`
	// Module is the module file the worker opens by path, when it is not
	// an inherited descriptor; it is granted for reading.
	Module string `json:"module,omitempty"`
	// Missing lists the guarantees asked for that are not in force, each
	// naming the kernel feature it needs (only with BestEffort).
	Missing []string `json:"-"`
}

// UnsupportedError reports a policy the kernel cannot enforce.
type UnsupportedError struct {
	// Missing names each guarantee and the feature it lacks.
	Missing []string
}

func (e *UnsupportedError) Error() string {
	return "the kernel cannot enforce " + strings.Join(e.Missing, "; ")
}

// NewPlan decides what to enforce of p on a kernel with f. Without
// BestEffort it fails with an *UnsupportedError when any guarantee would be
// missing. Paths must be absolute; they are cleaned.
func NewPlan(p Policy, f Features) (Plan, error) {
	pl := Plan{Policy: p}
	pl.Read = slices.Clone(p.Read)
	pl.Write = slices.Clone(p.Write)
	for _, list := range [][]string{pl.Read, pl.Write} {
		for i, path := range list {
			if !filepath.IsAbs(path) {
				return Plan{}, fmt.Errorf("sandbox path %q is not absolute", path)
			}
			list[i] = filepath.Clean(path)
		}
	}
	why := ""
	if f.Reason != "" {
		why = " (" + f.Reason + ")"
	}
	if f.Landlock >= LandlockFS {
		pl.Landlock = f.Landlock
	} else if f.Landlock > 0 {
		pl.Missing = append(pl.Missing, "file system confinement: needs Landlock ABI "+strconv.Itoa(LandlockFS)+" (Linux 6.2), the kernel has ABI "+strconv.Itoa(f.Landlock))
	} else {
		pl.Missing = append(pl.Missing, "file system confinement: needs Landlock, which the kernel lacks or has disabled"+why)
	}
	if f.Seccomp {
		pl.Seccomp = true
	} else {
		what := "forbidden system calls"
		if !p.Network {
			what += ", no network"
		}
		if !p.Exec {
			what += ", no new processes or programs"
		}
		pl.Missing = append(pl.Missing, what+": needs seccomp filters, which the kernel lacks"+why)
	}
	if len(pl.Missing) > 0 && !p.BestEffort {
		return Plan{}, &UnsupportedError{Missing: pl.Missing}
	}
	return pl, nil
}

// KilledSummary names the kinds of system call that kill a sandboxed
// worker with SIGSYS, for messages.
const KilledSummary = "ptrace, process_vm_*, mount and the new mount API, bpf, perf_event_open, kexec, kernel modules, reboot, swap, acct, open_by_handle_at, quotactl"

// Environment variables of a sandboxed worker.
const (
	// EnvPlan carries the JSON Plan from the host to the worker.
	EnvPlan = "MEMLINK_ISOLATE_SANDBOX"
	// EnvStatus names the descriptor of the UNIX socket on which the host
	// sends the worker a descriptor of its own /proc/<pid>/status (see
	// StartConfined), when the worker needs one.
	EnvStatus = "MEMLINK_ISOLATE_SANDBOX_STATUS"
)

// keptEnv are the variables of the host's environment a sandboxed worker
// keeps: the Go runtime's settings and the loader's search path. Every
// other one (tokens, credentials, whatever the service was started with)
// stays out of the module's reach.
var keptEnv = []string{"GOMAXPROCS", "GODEBUG", "GOTRACEBACK", "GOGC", "GOMEMLIMIT", "GORACE", "LD_LIBRARY_PATH"}

// WorkerEnv returns the environment for a sandboxed worker from the
// environment env the host would give an unconfined one: the variables
// whose names have one of the prefixes in marks (the worker's markers),
// keptEnv, and the plan.
func WorkerEnv(env []string, pl *Plan, marks ...string) ([]string, error) {
	b, err := json.Marshal(pl)
	if err != nil {
		return nil, err
	}
	out := []string{EnvPlan + "=" + string(b)}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(keptEnv, name) || slices.ContainsFunc(marks, func(m string) bool { return strings.HasPrefix(kv, m) }) {
			out = append(out, kv)
		}
	}
	return out, nil
}
