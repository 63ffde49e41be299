//go:build !purego

package memlink

// takeNULFast is takeNUL in one pass over the output, sixteen bytes at a
// time, looking at no more than the first min(cap(*dst)-len(*dst),
// len(*buf), 320) bytes of *buf: each chunk is tested for a zero byte,
// copied into *dst's spare capacity and cleared. When it finds the NUL (or
// reaches the end of *buf) it scrubs *buf as scrub does, extends *dst by
// the output and returns -1: done. Otherwise it returns the n >= 0 bytes
// it copied (and cleared; none was a NUL), leaves len(*dst) as it was,
// and takeNULRest goes on from there. It never writes *dst beyond the
// output's length. The limit keeps a 256-byte output (and its terminator)
// in this loop; past it the vectorised search, copy and clear cost fewer
// instructions per byte.
//
// The slices are passed by address, and done is folded into the result,
// because an assembly function takes its arguments and results on the
// stack: three words in and one out, where the slices by value were seven
// and two.
//
//go:noescape
func takeNULFast(dst, buf *[]byte, argsLen int) int
