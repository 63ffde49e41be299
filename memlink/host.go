package memlink

import (
	"context"
	"log/slog"
	"maps"
)

// HostFunc serves one host call: a module calling back into the host
// through the table it received in memlink_host_bind (docs/abi.md, "Host
// functions").
//
// ctx carries the deadline and cancellation of the module call the host
// call is made in (the context given to CallContext; context.Background
// for Call and for host calls made outside any call, such as from
// memlink_init or a thread the module started) and the caller, which
// CallerFrom returns. ctx is valid only while the HostFunc runs.
//
// args is the module's argument bytes and out an empty slice over the
// module's own output buffer, with its capacity: a result appended to out
// within that capacity is written in place, without a copy or an
// allocation. Neither may be kept after the HostFunc returns. A longer
// result is fine: the module is told the size it needs (code -4), the
// result is kept and handed over when the module calls again with a larger
// buffer, without running the HostFunc a second time.
//
// A non-nil error reaches the module as code -1 with the error's text as
// the message. A panic is recovered, logged and reported as code -5.
type HostFunc func(ctx context.Context, args, out []byte) ([]byte, error)

// Caller describes the module call a host function serves. See CallerFrom.
type Caller struct {
	// Handle is the module's handle. It is 0 for host calls made by
	// memlink_init during the first Load, before the handle exists.
	Handle Handle
	// Module is the module's name, as in the "module" metric label.
	Module string
	// Method is the method name of the module call being served, or ""
	// for a host call made outside any call (memlink_init, a thread of the
	// module's own).
	Method string
	// Generation is the generation of the module version making the call:
	// 1 after Load, one more after each successful Reload.
	Generation uint64
}

// callerKey is the context key of a *Caller.
type callerKey struct{}

// CallerFrom returns the caller of the host function whose context ctx is
// (or derives from), and false for any other context.
func CallerFrom(ctx context.Context) (Caller, bool) {
	if ctx == nil {
		return Caller{}, false
	}
	c, ok := ctx.Value(callerKey{}).(*Caller)
	if !ok {
		return Caller{}, false
	}
	return *c, true
}

// WithHostFunc grants every module of the runtime the host function name:
// a module reaches it with the id memlink_method_id(name). A later
// WithHostFunc of the same name replaces it, and a module's own
// WithHostFuncs take precedence. It panics on an empty name or a nil fn.
func WithHostFunc(name string, fn HostFunc) Option {
	if name == "" || fn == nil {
		panic("memlink: WithHostFunc needs a name and a function")
	}
	return func(o *options) {
		if o.host.funcs == nil {
			o.host.funcs = make(map[string]HostFunc)
		}
		o.host.funcs[name] = fn
	}
}

// WithHostFuncs grants the module being loaded the host functions of fns,
// in addition to the runtime's (WithHostFunc); a name in both is this
// module's function. No other module sees them. The grants carry over to
// reloads of the handle unless the Reload passes WithHostFuncs itself. It
// panics on an empty name or a nil function.
func WithHostFuncs(fns map[string]HostFunc) LoadOption {
	for name, fn := range fns {
		if name == "" || fn == nil {
			panic("memlink: WithHostFuncs needs names and functions")
		}
	}
	c := maps.Clone(fns)
	return func(o *loadOptions) { o.host.funcs, o.host.set = c, true }
}

// WithLogger sets the logger that module log records and the runtime's own
// events go to: reloads (info; warn when rolled back or timed out),
// isolated workers lost and restarted (warn), modules quarantined after
// corrupting their output (error), host functions that panicked (error)
// and the lines isolated workers print. Records carry the attributes
// module, handle (as Handle.String, like the metrics' handle label; empty
// in a first load's memlink_init) and generation, and method inside a
// call. Nothing is
// logged on the call path otherwise. Default: slog.Default(), as it is
// when the runtime logs (so a later slog.SetDefault is followed). A nil
// logger discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		o.host.logger = l
	}
}

// hostOptions are the runtime-wide host settings.
type hostOptions struct {
	funcs  map[string]HostFunc
	logger *slog.Logger
}

// hostLoad is what a load passes to the binding: its own grants and, for
// a reload, what the handle had.
type hostLoad struct {
	funcs    map[string]HostFunc // WithHostFuncs
	set      bool                // WithHostFuncs was given
	handle   Handle              // a reload's handle
	counters *hostCounters       // a reload's counters, shared by every version
}

// logger returns the runtime's logger.
func (rt *Runtime) logger() *slog.Logger {
	if l := rt.opts.host.logger; l != nil {
		return l
	}
	return slog.Default()
}
