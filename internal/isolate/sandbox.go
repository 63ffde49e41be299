//go:build unix

package isolate

import (
	"os"

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

// sandboxExit explains the end of a sandboxed worker killed by SIGSYS:
// its seccomp filter kills the process on a system call no module has
// business making.
func sandboxExit(cfg *Config, ex *Exit) {
	if cfg.Sandbox == nil || !cfg.Sandbox.Seccomp || ex.Signal != "SIGSYS" || ex.Detail != "" {
		return
	}
	ex.Detail = "the sandbox killed it for a forbidden system call (" + sandbox.KilledSummary + ")"
}
