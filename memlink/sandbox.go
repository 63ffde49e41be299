package memlink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/memlink/memlink-go/internal/sandbox"
)

// Sandbox confines an isolated module (Isolation.Sandbox): its worker
// process may read and write only what is granted here, and opens no
// socket and starts no process unless allowed. Everything else a module
// tries fails inside it with the error a program expects (EACCES or
// EPERM), so that it can handle it; a few system calls no module has
// business making (ptrace, mount, bpf, loading kernel modules, ...) end
// the worker with SIGSYS instead, and the call fails with
// ErrModuleCrashed.
//
// The sandbox is in force before the module's first instruction runs,
// constructors and memlink_init included, and for every thread and
// process the module starts; it outlives Reload (the new version runs
// under the same policy) and restarts. It costs nothing per call: it is
// set up once, when the worker starts.
//
// A zero Sandbox grants only what loading and running need: the module's
// own file (a private copy), the dynamic loader's libraries and cache,
// /dev/null, /dev/zero and /dev/urandom, and the program the worker runs.
// The worker's environment holds none of the host's variables but the Go
// runtime's settings and LD_LIBRARY_PATH. docs/security.md lists the
// grants, what the sandbox stops and what it does not.
//
// The sandbox needs Linux with Landlock ABI 3 (Linux 6.2) and seccomp
// filters on amd64 or arm64. Where the kernel cannot enforce it, Load
// fails with ErrSandboxUnsupported naming what is missing, unless
// BestEffort is set. Other operating systems have no sandbox: Load fails
// with ErrSandboxUnsupported, BestEffort or not.
//
// In a registry manifest, "sandbox" declares what a module needs, in the
// same terms ({"read": [...], "write": [...], "network": false, "exec":
// false}); a host whose Sandbox grants less gets ErrSandboxTooNarrow.
type Sandbox struct {
	// Read lists absolute paths of files and directory trees the module
	// may read. A symbolic link grants what it points to when the worker
	// starts. Each path must exist at Load.
	Read []string `json:"read,omitempty"`
	// Write lists absolute paths of files and directory trees the module
	// may read, write, create files and directories in, rename within
	// and remove from, including files created there after Load.
	Write []string `json:"write,omitempty"`
	// Network allows sockets. False denies socket(2) and socketpair(2)
	// for every address family, AF_UNIX included.
	Network bool `json:"network,omitempty"`
	// Exec allows starting programs and processes (execve, fork, clone
	// without CLONE_THREAD), and executing the files Read grants. False
	// denies them; threads stay allowed.
	Exec bool `json:"exec,omitempty"`
	// BestEffort loads the module with what the kernel can enforce when
	// it cannot enforce everything, instead of failing with
	// ErrSandboxUnsupported (on Linux). Runtime.SandboxReport says what
	// is in force. A manifest cannot set it.
	BestEffort bool `json:"-"`
}

// covers checks that s (a host's grant; nil grants everything) gives a
// module all that need (its manifest's declaration; nil needs nothing):
// each path it reads under a Read or Write path, each it writes under a
// Write path (compared as cleaned paths, without following links), and
// Network and Exec when it needs them.
func (s *Sandbox) covers(need *Sandbox) error {
	if s == nil || need == nil {
		return nil
	}
	under := func(p string, roots ...[]string) bool {
		p = filepath.Clean(p)
		for _, list := range roots {
			for _, r := range list {
				r = filepath.Clean(r)
				if p == r || strings.HasPrefix(p, strings.TrimSuffix(r, "/")+"/") {
					return true
				}
			}
		}
		return false
	}
	var missing []string
	for _, p := range need.Read {
		if !under(p, s.Read, s.Write) {
			missing = append(missing, "read "+p)
		}
	}
	for _, p := range need.Write {
		if !under(p, s.Write) {
			missing = append(missing, "write "+p)
		}
	}
	if need.Network && !s.Network {
		missing = append(missing, "network")
	}
	if need.Exec && !s.Exec {
		missing = append(missing, "exec")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: its manifest asks for %s, which Isolation.Sandbox does not grant", ErrSandboxTooNarrow, strings.Join(missing, ", "))
}

// clone returns a copy that shares nothing with s, or nil for nil: the
// policy of a handle cannot change behind its back.
func (s *Sandbox) clone() *Sandbox {
	if s == nil {
		return nil
	}
	c := *s
	c.Read, c.Write = slices.Clone(s.Read), slices.Clone(s.Write)
	return &c
}

// plan checks s and decides what to enforce on this kernel.
func (s *Sandbox) plan() (*sandbox.Plan, error) {
	if !sandbox.Supported {
		return nil, fmt.Errorf("%w: no sandbox on %s", ErrSandboxUnsupported, runtime.GOOS)
	}
	for _, list := range [][]string{s.Read, s.Write} {
		for _, p := range list {
			if !strings.HasPrefix(p, "/") {
				return nil, fmt.Errorf("sandbox: path %q is not absolute", p)
			}
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("sandbox: granted path: %w", err)
			}
		}
	}
	pl, err := sandbox.NewPlan(sandbox.Policy{Read: s.Read, Write: s.Write, Network: s.Network, Exec: s.Exec, BestEffort: s.BestEffort}, sandbox.Probe())
	var ue *sandbox.UnsupportedError
	if errors.As(err, &ue) {
		return nil, fmt.Errorf("%w: %s", ErrSandboxUnsupported, ue.Error())
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return &pl, nil
}

// SandboxReport says what the sandbox of an isolated module enforces.
type SandboxReport struct {
	// Granted is the policy the handle was loaded with.
	Granted Sandbox
	// LandlockABI is the Landlock ABI version confining the file system,
	// or 0 when the file system is not confined (BestEffort on a kernel
	// without Landlock ABI 3).
	LandlockABI int
	// Seccomp reports that the system call filter is in force: no
	// sockets unless Network, no programs or processes unless Exec, no
	// forbidden system calls.
	Seccomp bool
	// Missing lists what was asked for and is not in force, each naming
	// the kernel feature it needs. It is empty unless BestEffort let the
	// module load without it.
	Missing []string
}

// Complete reports whether everything the policy asks for is in force.
func (r SandboxReport) Complete() bool { return len(r.Missing) == 0 }

// SandboxReport reports what confines the module behind h now (after a
// reload, the current version's worker). It returns false for an unknown
// handle and for a module loaded without a Sandbox.
func (rt *Runtime) SandboxReport(h Handle) (SandboxReport, bool) {
	e := rt.lookup(h)
	if e == nil {
		return SandboxReport{}, false
	}
	e.mu.Lock()
	in := e.live[len(e.live)-1]
	e.mu.Unlock()
	if in.iso == nil || in.iso.c.Sandbox() == nil {
		return SandboxReport{}, false
	}
	pl := in.iso.c.Sandbox()
	return SandboxReport{
		Granted:     *in.iso.cfg.Sandbox.clone(),
		LandlockABI: pl.Landlock,
		Seccomp:     pl.Seccomp,
		Missing:     slices.Clone(pl.Missing),
	}, true
}
