//go:build !(cgo && (linux || darwin))

package cgobench

import "errors"

// Available reports whether this build has the cgo yardstick.
const Available = false

// Lib is unavailable without cgo.
type Lib struct{}

// Open always fails without cgo.
func Open(path string, v2 bool, outCap int) (*Lib, error) {
	return nil, errors.New("cgobench: built without cgo")
}

// Call is never reached without cgo.
func (l *Lib) Call(id uint32, args []byte) int { return -1 }

// Close does nothing without cgo.
func (l *Lib) Close() {}
