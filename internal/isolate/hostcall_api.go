package isolate

import (
	"context"
	"errors"
)

// ErrNoSlot is the error of a call made with Nested when every slot of
// the worker is taken.
var ErrNoSlot = errors.New("isolate: every slot is busy")

type nestedKey struct{}

// Nested marks ctx as the context of a call made from inside a host call
// of the same module: such a call does not wait for a free slot (the
// slots may all be held by calls waiting for their host functions, which
// wait for it) but fails at once with ErrNoSlot.
func Nested(ctx context.Context) context.Context { return context.WithValue(ctx, nestedKey{}, true) }

func nested(ctx context.Context) bool { return ctx.Value(nestedKey{}) != nil }

// HostHandler serves an isolated module's host calls in the host. Its
// methods run on the goroutine that made the module call (the one in
// Client.Call), while that call waits.
type HostHandler interface {
	// HostCall runs host function id with args, writing the result (or
	// an error message) into out's capacity. It returns the length to
	// report and the code; for code -4 the length is the size needed,
	// which must not exceed limit (the most the slot can carry).
	HostCall(id uint32, args, out []byte, limit int) (n int, code int32)
	// HostLog delivers one log record.
	HostLog(level int32, msg []byte)
}
