//go:build !unix && !windows

package plainfile

import "os"

// Open opens path read-only: os.Open, which involves no poller here.
func Open(path string) (*os.File, error) { return os.Open(path) }
