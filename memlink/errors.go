package memlink

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/hotreload"
)

// Errors returned by the runtime, checked with errors.Is. Errors carry more
// context (the file, the symbol, the method) around these sentinels.
var (
	// ErrUnknownHandle reports a handle that was never returned by Load on
	// this runtime, or whose module has been unloaded. The zero Handle is
	// never valid.
	ErrUnknownHandle = errors.New("unknown module handle")
	// ErrNotFound reports a module reference that does not resolve to a file.
	ErrNotFound = errors.New("module not found")
	// ErrInvalidModule reports a file that is not a loadable shared library:
	// not a library at all, built for another CPU or operating system,
	// unreadable, or refused by the dynamic loader.
	ErrInvalidModule = abi.ErrInvalidModule
	// ErrMissingSymbol reports a module that lacks a required export; the
	// message names the symbol.
	ErrMissingSymbol = abi.ErrMissingSymbol
	// ErrABIVersion reports a module announcing an ABI version this runtime
	// does not support.
	ErrABIVersion = abi.ErrABIVersion
	// ErrInitFailed reports a non-zero return from memlink_init. The library
	// has been closed again.
	ErrInitFailed = errors.New("memlink_init failed")
	// ErrModulePanicked reports a call that returned code -5: the module
	// caught a panic or exception of its own and reported it.
	ErrModulePanicked = errors.New("module panicked")
	// ErrUnknownMethod reports a call that returned code -6.
	ErrUnknownMethod = errors.New("unknown method")
	// ErrModuleCorrupted reports a module that wrote past its output buffer
	// or reported an output larger than the buffer it was given. The module
	// is marked corrupted and every later call fails fast with this error
	// until it is reloaded or unloaded.
	ErrModuleCorrupted = errors.New("module corrupted its output buffer")
	// ErrOutputTooLarge reports an ABI-2 call whose output exceeds the
	// runtime's MaxOutput.
	ErrOutputTooLarge = errors.New("module output too large")
	// ErrClosed reports use of a Runtime after Close.
	ErrClosed = errors.New("runtime closed")
	// ErrDigestMismatch reports a module whose bytes do not hash to the
	// SHA-256 pinned in its reference, given with WithDigest or recorded in
	// its registry manifest. Nothing of the file has run. The error is a
	// *DigestError naming both digests.
	ErrDigestMismatch = errors.New("module digest mismatch")
	// ErrNotListed reports a module file that its directory's SHA256SUMS
	// (see WatchDir) does not list; it matches ErrDigestMismatch too.
	ErrNotListed = fmt.Errorf("not listed in %s: %w", SumsFile, ErrDigestMismatch)
	// ErrInsecureModule reports a module file that users other than this
	// process's could replace (Unix): the file, a directory its lookup
	// passes through (following symbolic links) or a link followed is
	// owned by another user than this process's or root, or is writable
	// by every user or by a group other than this process's effective
	// group (directories with the sticky bit excepted). See
	// docs/security.md.
	ErrInsecureModule = errors.New("insecure module file")
	// ErrModuleTooLarge reports a module file larger than the runtime's
	// maximum module size (WithMaxModuleSize). Such an error matches
	// ErrInvalidModule too; nothing of the file was copied.
	ErrModuleTooLarge = errors.New("module file too large")
	// ErrDrainTimeout reports that calls were still running when an unload
	// or reload stopped waiting for them. The library is closed when the
	// last of them returns, never while one runs.
	ErrDrainTimeout = hotreload.ErrDrainTimeout
	// ErrModuleCrashed reports a call on an isolated module (WithIsolation)
	// whose worker process ended while the call ran in it: the module
	// crashed, exited or ran out of memory, or the worker was killed
	// because another call timed out. The error is a *CrashError naming
	// the signal or exit status. It is also the error of every call after
	// a crash under RestartNever, and of a Load whose worker ended while
	// loading the module.
	ErrModuleCrashed = errors.New("module crashed")
	// ErrCallTimeout reports a call on an isolated module that ran longer
	// than Isolation.CallTimeout; its worker was killed.
	ErrCallTimeout = errors.New("call timed out")
	// ErrReentrant reports an Unload, Reload or Close made from inside a
	// call on the module it would wait for: a host function (or code it
	// calls on the same goroutine) serving a call on that handle. Doing it
	// would wait for the very call that asks; nothing is changed.
	ErrReentrant = errors.New("called from inside a call on the module")
	// ErrInvalidOption reports an option given a value outside its
	// documented range: Load and Reload return it (in a *LoadError) for a
	// LoadOption, New panics with it for an Option.
	ErrInvalidOption = errors.New("invalid option")
	// ErrSandboxUnsupported reports an Isolation.Sandbox this system
	// cannot enforce: no Landlock (or an ABI older than 3), no seccomp
	// filters, or an operating system other than Linux. The message names
	// what is missing. Sandbox.BestEffort loads anyway on Linux.
	ErrSandboxUnsupported = errors.New("sandbox not supported")
	// ErrSandboxTooNarrow reports a registry module whose manifest
	// declares that it needs more than the Isolation.Sandbox it was loaded
	// with grants; the message names each difference. Nothing of the file
	// has run.
	ErrSandboxTooNarrow = errors.New("sandbox narrower than the module needs")
)

// CallError is the error of a call whose module returned a non-zero code.
// For the reserved codes -5 and -6 it also matches ErrModulePanicked and
// ErrUnknownMethod with errors.Is.
type CallError struct {
	// Module is the file name of the module, such as "echo.so".
	Module string
	// Method is the method name the caller passed.
	Method string
	// Code is the module's return code: negative codes are reserved by the
	// ABI, positive ones are the module's own.
	Code int32
	// Message is the module's error message, if it left one.
	Message string
}

func (e *CallError) Error() string {
	s := "memlink: " + e.Module + ": method " + strconv.Quote(e.Method) + ": " + abi.CodeText(e.Code)
	if e.Code < 0 {
		s += " (code " + strconv.FormatInt(int64(e.Code), 10) + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the sentinel for a reserved code (ErrModulePanicked for
// -5, ErrUnknownMethod for -6), or nil.
func (e *CallError) Unwrap() error {
	switch e.Code {
	case abi.CodePanicked:
		return ErrModulePanicked
	case abi.CodeUnknownMethod:
		return ErrUnknownMethod
	}
	return nil
}

// LoadError is the error of a failed Load (or of the new version in a
// failed Reload, which wraps it). Err wraps one of the sentinels:
// ErrNotFound, ErrInvalidModule, ErrMissingSymbol, ErrABIVersion,
// ErrInitFailed, ErrDigestMismatch (a *DigestError), ErrInsecureModule,
// ErrInvalidOption (a LoadOption with a value out of its range),
// ErrModuleCrashed (an isolated module's worker died while loading it, a
// *CrashError), ErrCallTimeout (an isolated memlink_init ran too long),
// ErrClosed (the runtime was closed), or errors.ErrUnsupported (isolation
// or module loading is not available on this platform).
type LoadError struct {
	// Ref is the reference as the caller gave it.
	Ref string
	// Path is the file it resolved to, when resolution succeeded.
	Path string
	// Err is the cause.
	Err error

	nested bool // wrapped by a message that already says "memlink:"
}

// Error names the reference and the file once: whichever of them the
// cause already names is left out.
func (e *LoadError) Error() string {
	var b strings.Builder
	if !e.nested {
		b.WriteString("memlink: ")
	}
	b.WriteString("load")
	cause := ""
	if e.Err != nil {
		cause = e.Err.Error()
	}
	if e.Ref != "" && !strings.Contains(cause, e.Ref) {
		b.WriteString(" ")
		b.WriteString(e.Ref)
	}
	if e.Path != "" && e.Path != e.Ref && !strings.Contains(cause, e.Path) {
		b.WriteString(" (")
		b.WriteString(e.Path)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(cause)
	return b.String()
}

// Unwrap returns the cause.
func (e *LoadError) Unwrap() error { return e.Err }

// LoadErrorReason classifies a load error for metrics: "not_found",
// "invalid_module", "missing_symbol", "abi_version", "init_failed",
// "digest_mismatch", "insecure", or "other".
func LoadErrorReason(err error) string {
	switch {
	case errors.Is(err, ErrDigestMismatch):
		return "digest_mismatch"
	case errors.Is(err, ErrInsecureModule):
		return "insecure"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalidModule):
		return "invalid_module"
	case errors.Is(err, ErrMissingSymbol):
		return "missing_symbol"
	case errors.Is(err, ErrABIVersion):
		return "abi_version"
	case errors.Is(err, ErrInitFailed):
		return "init_failed"
	}
	return "other"
}

// DigestError is the error of a module whose bytes do not match their
// pinned digest. It matches ErrDigestMismatch with errors.Is.
type DigestError struct {
	// Path is the file that was read.
	Path string
	// Expected and Actual are SHA-256 digests in hex.
	Expected, Actual string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%v: %s has sha256 %s, expected %s", ErrDigestMismatch, e.Path, e.Actual, e.Expected)
}

// Unwrap returns ErrDigestMismatch.
func (e *DigestError) Unwrap() error { return ErrDigestMismatch }

// CrashError is the error of a call on an isolated module whose worker
// process ended while the call ran in it. It matches ErrModuleCrashed.
type CrashError struct {
	// Module is the module's file name, such as "echo.so".
	Module string
	// Method is the method the caller called.
	Method string
	// Reason classifies the end: one of WorkerRestartReasons, or
	// "shutdown" for a worker killed because its module was unloaded (or
	// its runtime closed) while the call still ran.
	Reason string
	// Signal names the signal that ended the worker, such as "SIGSEGV",
	// or on Windows the exception, such as "EXCEPTION_ACCESS_VIOLATION",
	// or is empty when it exited.
	Signal string
	// ExitCode is the worker's exit status, or -1 when a signal ended it;
	// on Windows, the exception's code (0xC0000005) when Signal names one.
	ExitCode int
	// Pid is the worker's process id.
	Pid int
	// Detail says more when there is more to say: "killed after timeout:
	// a call ran longer than 2s", "memory limit of 256 MiB reached", or
	// why no new worker runs.
	Detail string
}

// Error describes the crash. It does not say "memlink:": the error a
// call returns wraps it in one that does.
func (e *CrashError) Error() string {
	var b strings.Builder
	b.WriteString("module ")
	b.WriteString(e.Module)
	b.WriteString(" crashed: ")
	switch {
	case e.Signal != "" && e.ExitCode > 0:
		fmt.Fprintf(&b, "%s (0x%08X)", e.Signal, uint32(e.ExitCode))
	case e.Signal != "":
		b.WriteString(e.Signal)
	default:
		b.WriteString("exit status ")
		b.WriteString(strconv.Itoa(e.ExitCode))
	}
	if e.Detail != "" {
		b.WriteString(" (")
		b.WriteString(e.Detail)
		b.WriteString(")")
	}
	if e.Method != "" {
		b.WriteString(" in method ")
		b.WriteString(strconv.Quote(e.Method))
	}
	if e.Pid > 0 {
		b.WriteString(", worker pid ")
		b.WriteString(strconv.Itoa(e.Pid))
	}
	return b.String()
}

// Unwrap returns ErrModuleCrashed.
func (e *CrashError) Unwrap() error { return ErrModuleCrashed }

// DirError reports the files of a LoadDir call that did not load.
type DirError struct {
	// Dir is the directory that was scanned.
	Dir string
	// Files maps each file that failed to its error.
	Files map[string]error
}

func (e *DirError) Error() string {
	names := make([]string, 0, len(e.Files))
	for n := range e.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "memlink: %d module(s) in %s failed to load", len(names), e.Dir)
	for _, n := range names {
		// Each line names its file once: a load error's own prefix and
		// path give way to the file name.
		err := e.Files[n]
		var le *LoadError
		msg := err.Error()
		if errors.As(err, &le) && le.Err != nil {
			msg = le.Err.Error()
			if le.Path != "" {
				msg = strings.ReplaceAll(msg, le.Path, n)
			}
		}
		msg = strings.ReplaceAll(msg, filepath.Join(e.Dir, n), n)
		fmt.Fprintf(&b, "\n\t%s: %s", n, strings.TrimPrefix(msg, n+": "))
	}
	return b.String()
}

// Unwrap returns the errors of the individual files.
func (e *DirError) Unwrap() []error {
	errs := make([]error, 0, len(e.Files))
	for _, err := range e.Files {
		errs = append(errs, err)
	}
	return errs
}
