package main

import "golang.org/x/sys/unix"

// isTerminalFd reports whether fd is a terminal: whether it answers the
// terminal-attributes ioctl.
func isTerminalFd(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	return err == nil
}
