package hotreload

import (
	"errors"
	"time"
)

// DefaultDrainTimeout is the drain timeout used when Config.DrainTimeout is
// zero.
const DefaultDrainTimeout = 30 * time.Second

// Errors a reload or an unload can end with, checked with errors.Is.
var (
	// ErrDrainTimeout reports that calls still ran in the old version when
	// the drain timeout passed. For a stateless reload the new version is
	// active anyway and the old one is closed when its last call returns;
	// for a stateful reload the old version keeps serving.
	ErrDrainTimeout = errors.New("drain timed out")
	// ErrStateUnsupported reports a stateful reload where the old or the new
	// version lacks the state exports.
	ErrStateUnsupported = errors.New("module does not export the state functions")
	// ErrStateTransfer reports a failed serialise or restore of state.
	ErrStateTransfer = errors.New("state transfer failed")
)

// Config controls one reload. Its zero value is a stateless reload with the
// default drain timeout.
type Config struct {
	// DrainTimeout bounds how long Reload waits for calls in the old version
	// to finish (a stateless reload: to return from the module's code).
	// Zero means DefaultDrainTimeout (30s).
	DrainTimeout time.Duration
	// PreserveState carries the module's state from the old version to the
	// new one through the state exports. New calls are held (not refused)
	// while the old version drains. Default false.
	PreserveState bool
}

// Timeout returns the drain timeout in force: DrainTimeout, or
// DefaultDrainTimeout when it is zero or negative.
func (c Config) Timeout() time.Duration {
	if c.DrainTimeout <= 0 {
		return DefaultDrainTimeout
	}
	return c.DrainTimeout
}

// Result says how a reload ended, for reports and metrics.
type Result string

// Reload results.
const (
	ResultOK           Result = "ok"
	ResultRolledBack   Result = "rolled_back"
	ResultDrainTimeout Result = "drain_timeout"
)

// Report describes a finished reload.
type Report struct {
	// Generation is the generation serving the handle when Reload returned:
	// the new one on success, the old one after a rollback.
	Generation uint64
	// Drained is the number of calls that were in flight in the old version
	// when the handle switched and that Reload waited for.
	Drained int
	// StateBytes is the size of the state carried across (stateful reloads).
	StateBytes int
	// Switch is how long after Reload started the handle switched to the
	// new version (zero when it never did). For a stateless reload that is
	// the time to load and initialise the new version; the rest of
	// Duration is spent waiting for calls to leave the old one, while the
	// new one already serves.
	Switch time.Duration
	// Duration is the wall time Reload took.
	Duration time.Duration
	// Result says how the reload ended.
	Result Result
}
