//go:build !unix

package plainfile

import "os"

// Open opens path read-only. Outside Unix it is os.Open, which does not
// involve a poller for regular files there.
func Open(path string) (*os.File, error) { return os.Open(path) }
