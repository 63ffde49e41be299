//go:build !unix

package memlink

// checkPermissions does nothing here: Windows access control lists are not
// inspected (see docs/security.md).
func checkPermissions(string) error { return nil }
