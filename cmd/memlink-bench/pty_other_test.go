//go:build !linux

package main

import (
	"errors"
	"os"
)

// openPTY is only implemented on Linux (/dev/ptmx and /dev/pts).
func openPTY() (*os.File, func(), error) {
	return nil, nil, errors.New("opening a pseudo-terminal is only implemented for Linux in this test")
}
