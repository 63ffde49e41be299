//go:build !(linux || darwin || freebsd || netbsd || windows)

package main

// isTerminalFd reports false: there is no portable way to ask here, and
// plain lines are always safe.
func isTerminalFd(uintptr) bool { return false }
