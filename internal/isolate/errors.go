package isolate

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sentinels. Package memlink matches them with its own ErrModuleCrashed,
// ErrCallTimeout and ErrUnknownHandle (see its isolation.go).
var (
	// ErrCrashed reports a call that failed because its worker process
	// ended: a crash, a kill after a timeout, or no worker to run it
	// (restarts disabled).
	ErrCrashed = errors.New("module crashed")
	// ErrTimeout reports a call that ran longer than Config.CallTimeout;
	// its worker was killed.
	ErrTimeout = errors.New("call timed out")
	// ErrClosed reports use of a client after Shutdown or Kill.
	ErrClosed = errors.New("isolated module closed")
)

// Reason says why a worker ended.
type Reason int

// Reasons a worker ends abnormally, counted by Client.Restarts. The set is
// fixed; String gives the metric label.
const (
	// ReasonCrash: the worker died on its own (a signal, or an exit the
	// host did not ask for).
	ReasonCrash Reason = iota
	// ReasonMemory: the worker died after its peak resident memory reached
	// three quarters of Config.MemoryLimit, which is what running into the
	// limit looks like (malloc fails, the module or the runtime gives up).
	ReasonMemory
	// ReasonTimeout: the host killed the worker because a call ran past
	// Config.CallTimeout or its context's deadline.
	ReasonTimeout
	// ReasonCanceled: the host killed the worker because a running call's
	// context was cancelled.
	ReasonCanceled
	// NumReasons is the number of reasons above.
	NumReasons

	// reasonShutdown: the host stopped the worker on purpose (Shutdown,
	// Kill). Not counted.
	reasonShutdown
)

var reasonNames = [NumReasons]string{"crash", "memory", "timeout", "canceled"}

func (r Reason) String() string {
	if r >= 0 && r < NumReasons {
		return reasonNames[r]
	}
	return "shutdown"
}

// Reasons returns the labels of every counted reason, in order.
func Reasons() []string { return append([]string(nil), reasonNames[:]...) }

// Exit describes how a worker process ended.
type Exit struct {
	// Reason classifies the end.
	Reason Reason
	// Pid is the worker's process id.
	Pid int
	// Signal names the signal that killed it ("SIGSEGV"), or on Windows
	// the exception ("EXCEPTION_ACCESS_VIOLATION"), or is empty.
	Signal string
	// Status is the exit status, or -1 when a signal killed it; on
	// Windows, the exception's code when Signal names one.
	Status int
	// MaxRSS is the worker's peak resident memory in bytes, where known.
	MaxRSS uint64
	// Detail says what the host did or saw, such as "killed after a call
	// ran longer than 2s"; empty for a plain crash.
	Detail string
}

// String describes the end briefly: "SIGSEGV", "exit status 3", or the
// detail for a worker the host killed.
func (e *Exit) String() string {
	var s string
	switch {
	case e.Signal != "" && e.Status > 0:
		s = e.Signal + " (" + statusHex(e.Status) + ")"
	case e.Signal != "":
		s = e.Signal
	default:
		s = "exit status " + strconv.Itoa(e.Status)
	}
	if e.Detail != "" {
		s = e.Detail + " (" + s + ")"
	}
	return s
}

// statusHex formats a Windows exception code, such as 0xC0000005.
func statusHex(n int) string { return fmt.Sprintf("0x%08X", uint32(n)) }

// FailKind classifies a Failure.
type FailKind int

// Kinds of Failure.
const (
	// FailLost: the worker ended while it ran the call (or, with restarts
	// off, there was no worker left to run it).
	FailLost FailKind = iota
	// FailTimeout: this call ran past Config.CallTimeout; the worker was
	// killed.
	FailTimeout
	// FailCanceled: the call's context ended first. Killed says whether
	// the call had started, so that the worker had to be killed.
	FailCanceled
)

// Failure is the error of a call that got no answer from the module.
type Failure struct {
	Kind FailKind
	// Exit is how the worker ended, when it has (always for FailLost).
	Exit *Exit
	// Ctx is the context's error, for FailCanceled.
	Ctx error
	// Killed reports that the host killed the worker for this call.
	Killed bool
	// Pending is set for FailLost when no worker runs because restarts
	// are off, or a restart failed: it says why.
	Pending error
	// Op and Limit say, for FailTimeout, what ran too long ("a call",
	// "memlink_init", "memlink_shutdown", "the worker's start") and the
	// limit it ran past.
	Op    string
	Limit time.Duration
}

func (f *Failure) Error() string {
	switch f.Kind {
	case FailTimeout:
		if f.Op != "" {
			return f.Op + " ran longer than " + f.Limit.String() + "; worker killed"
		}
		return "call timed out; worker killed"
	case FailCanceled:
		if f.Killed {
			return f.Ctx.Error() + "; worker killed"
		}
		return f.Ctx.Error()
	}
	if f.Pending != nil {
		return "module crashed: " + f.Pending.Error()
	}
	if f.Exit != nil {
		return "module crashed: " + f.Exit.String()
	}
	return "module crashed"
}

// Unwrap matches ErrCrashed, ErrTimeout or the context's error.
func (f *Failure) Unwrap() error {
	switch f.Kind {
	case FailTimeout:
		return ErrTimeout
	case FailCanceled:
		return f.Ctx
	}
	return ErrCrashed
}

// Load error classes (LoadFailure.Class).
const (
	LoadInvalid = 1   // the loader refused the file
	LoadSymbol  = 2   // a required export is missing
	LoadVersion = 3   // unsupported ABI version
	LoadInit    = 4   // memlink_init returned Code
	LoadTimeout = 5   // memlink_init (or the worker's start) ran past its limit; Err is the *Failure
	LoadStart   = 100 // the worker could not be started or died
)

// LoadFailure is the error of a worker that could not load the module.
type LoadFailure struct {
	Class int
	// Code is memlink_init's result, for LoadInit.
	Code int32
	// Msg is the loader's or binder's message.
	Msg string
	// Exit is set when the worker ended during the load.
	Exit *Exit
	// Err is the underlying error for LoadStart.
	Err error
}

func (e *LoadFailure) Error() string {
	switch {
	case e.Class == LoadInit:
		return fmt.Sprintf("memlink_init returned %d", e.Code)
	case e.Class == LoadTimeout && e.Err != nil:
		return e.Err.Error()
	case e.Exit != nil:
		return "worker ended while loading the module: " + e.Exit.String()
	case e.Err != nil:
		return "starting worker: " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the underlying error, if any.
func (e *LoadFailure) Unwrap() error { return e.Err }

// ResultKind classifies a module's answer.
type ResultKind int

// Kinds of Result.
const (
	// ResultOK: the call returned 0; its output was appended.
	ResultOK ResultKind = iota
	// ResultCode: the call returned Code, with Message.
	ResultCode
	// ResultOverrun: an ABI-1 module wrote past its Cap-byte buffer.
	ResultOverrun
	// ResultLiar: an ABI-2 module reported N output bytes in a Cap-byte
	// buffer.
	ResultLiar
	// ResultTooLarge: an ABI-2 module asked for N output bytes, more than
	// the limit Cap.
	ResultTooLarge
)

// Result is a module's answer to a call.
type Result struct {
	Kind    ResultKind
	Code    int32
	Message string
	N, Cap  uint64
}
