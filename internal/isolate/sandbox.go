//go:build unix

package isolate

import (
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/memlink/memlink-go/internal/sandbox"
)

// workerSandbox is what starting a sandboxed worker needs: its plan and,
// under a memory limit, the socket that brings it its status file.
type workerSandbox struct {
	plan   *sandbox.Plan // nil: no sandbox
	status *sandbox.StatusSocket
	fd     int // the worker's descriptor of status.Child
}

// newWorkerSandbox prepares the sandbox of a new worker for cfg (none
// without Config.Sandbox): the plan, which also grants the module's path
// when it is opened by path, and the status socket, appended to extra,
// when the worker will measure itself for MemoryLimit.
func newWorkerSandbox(cfg *Config, extra *[]*os.File) (*workerSandbox, error) {
	if cfg.Sandbox == nil {
		return &workerSandbox{}, nil
	}
	pl := *cfg.Sandbox
	if cfg.File == nil {
		pl.Module = cfg.Path // opened by path: granted for reading
	}
	ws := &workerSandbox{plan: &pl}
	if cfg.MemoryLimit > 0 && MemoryLimitEnforced {
		s, err := sandbox.NewStatusSocket()
		if err != nil {
			return nil, err
		}
		ws.status, ws.fd = s, fdRegion+len(*extra)
		*extra = append(*extra, s.Child)
	}
	return ws, nil
}

// env returns the environment of the new worker: env, or for a sandboxed
// one what package sandbox keeps of it, with the plan.
func (ws *workerSandbox) env(env []string) []string {
	if ws.plan == nil {
		return env
	}
	out, err := sandbox.WorkerEnv(env, ws.plan, EnvWorker+"=")
	if err != nil {
		// A plan is strings and booleans; encoding one cannot fail.
		panic("isolate: encoding a sandbox plan: " + err.Error())
	}
	if ws.status != nil {
		out = append(out, sandbox.EnvStatus+"="+strconv.Itoa(ws.fd))
	}
	return out
}

// start starts the worker: for a sandboxed one from a thread confined
// first, so that the worker's program starts confined (see
// sandbox.StartConfined). exe is the program's descriptor.
func (ws *workerSandbox) start(cmd *exec.Cmd, exe *os.File) error {
	if ws.plan == nil {
		return cmd.Start()
	}
	return sandbox.StartConfined(ws.plan, exe, ws.status, func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
}

// close releases what start did not hand over.
func (ws *workerSandbox) close() { ws.status.Close() }

// enterSandbox completes the confinement of a sandboxed worker before it
// serves anything (see package sandbox); it returns at once in a worker
// without a sandbox, and exits the worker when confinement fails.
func enterSandbox() {
	if err := sandbox.Enter(); err != nil {
		os.Exit(fail("sandbox: %v", err))
	}
}

// catchForbidden has a sandboxed worker record the system call that its
// seccomp filter traps in the region's header (hSigsys) before it dies of
// SIGSYS, so that the host can name it. It runs after resetFatalSignals.
func catchForbidden(mem []byte) {
	if !sandbox.Trapping() {
		return
	}
	if err := sandbox.CatchForbidden((*[8]byte)(mem[hSigsys : hSigsys+8])); err != nil {
		// The worker would still die of a forbidden call, unnamed.
		os.Exit(fail("sandbox: SIGSYS handler: %v", err))
	}
}

// sandboxExit explains the end of a sandboxed worker killed by SIGSYS: its
// seccomp filter kills the process on a system call no module has
// business making, which the worker recorded in the header of mem (see
// catchForbidden). The record is the worker's word, which its module
// could have scribbled over: it only names a system call in a message.
func sandboxExit(cfg *Config, ex *Exit, mem []byte) {
	if cfg.Sandbox == nil || !cfg.Sandbox.Seccomp || ex.Signal != "SIGSYS" || ex.Detail != "" {
		return
	}
	if name, ok := sandbox.Forbidden((*atomic.Uint64)(unsafe.Pointer(&mem[hSigsys])).Load()); ok {
		ex.Detail = "the sandbox killed it for a forbidden system call: " + name
		return
	}
	ex.Detail = "the sandbox killed it for a forbidden system call (" + sandbox.KilledSummary + ")"
}
