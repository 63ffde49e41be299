//go:build unix

package isolate

import (
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/memlink/memlink-go/internal/sandbox"
)

// sandboxEnv returns the environment of a new worker: env, or for a
// sandboxed one (Config.Sandbox) what package sandbox keeps of it, with
// the plan.
func sandboxEnv(cfg *Config, env []string) []string {
	if cfg.Sandbox == nil {
		return env
	}
	pl := *cfg.Sandbox
	if cfg.File == nil {
		pl.Module = cfg.Path // opened by path: granted for reading
	}
	out, err := sandbox.WorkerEnv(env, &pl, EnvWorker+"=")
	if err != nil {
		// A plan is strings and booleans; encoding one cannot fail.
		panic("isolate: encoding a sandbox plan: " + err.Error())
	}
	return out
}

// enterSandbox confines a sandboxed worker before it serves anything; see
// package sandbox. It returns in the confined image (or at once in a
// worker without a sandbox) and exits the worker when confinement fails.
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
