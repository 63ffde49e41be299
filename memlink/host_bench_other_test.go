//go:build !unix

package memlink_test

// isolationSupported: WithIsolation works here (not on Windows yet).
const isolationSupported = false
