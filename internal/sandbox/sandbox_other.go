//go:build !linux

package sandbox

import "os"

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
