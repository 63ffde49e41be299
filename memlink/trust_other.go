//go:build !unix

package memlink

import (
	"github.com/memlink/memlink-go/internal/plainfile"
)

// openTrusted opens the module file at path like openPlain: Windows
// access control lists are not inspected (see docs/security.md).
func openTrusted(path string) (*plainfile.File, plainfile.Info, error) { return openPlain(path) }
