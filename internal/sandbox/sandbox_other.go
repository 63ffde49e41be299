//go:build !linux

package sandbox

import (
	"errors"
	"os"
)

// Supported reports whether this platform has a sandbox at all: only
// Linux has one.
const Supported = false

// Probe returns what the kernel can enforce: nothing here.
var Probe = func() Features { return Features{Reason: "no sandbox on this operating system"} }

// Enter does nothing: no worker here is ever given a plan.
func Enter() error { return nil }

// StatusFile returns nil: see the Linux version.
func StatusFile() *os.File { return nil }

// Trapping reports false: see the Linux version.
func Trapping() bool { return false }

// StatusSocket does not exist here: see the Linux version.
type StatusSocket struct{ Child *os.File }

// NewStatusSocket fails: see the Linux version.
func NewStatusSocket() (*StatusSocket, error) { return nil, errors.New("no sandbox here") }

// Close does nothing.
func (s *StatusSocket) Close() {}

// StartConfined fails: no worker here is sandboxed.
func StartConfined(pl *Plan, exe *os.File, status *StatusSocket, start func() (int, error)) error {
	return errors.New("no sandbox on this operating system")
}
