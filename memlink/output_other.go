//go:build !amd64 || purego

package memlink

// takeNULFast does nothing where there is no one-pass routine: takeNULRest
// does the whole work.
func takeNULFast(dst, buf *[]byte, argsLen int) int { return 0 }
