package memlink

import "bytes"

// ABI-1 output: the bytes before the first NUL of the output buffer, and
// the buffer left zeroed for the next call (scrub). On amd64 one routine
// does the search, the copy, the clear and the window test in one pass
// over a short output (takeNULFast); elsewhere, and for what it leaves,
// takeNULRest does them the vectorised way.

// takeNUL appends the bytes of buf before its first NUL (all of buf when
// there is none) to dst and scrubs buf for the next call. It never writes
// dst beyond the length it returns. The call path writes it out, which
// saves a call level.
func takeNUL(dst, buf []byte, argsLen int) []byte {
	if n := takeNULFast(&dst, &buf, argsLen); n >= 0 {
		return takeNULRest(dst, buf, argsLen, n)
	}
	return dst
}

// takeNULRest is takeNUL after takeNULFast copied (and cleared) the first n
// bytes, none of them a NUL, into dst's spare capacity.
func takeNULRest(dst, buf []byte, argsLen, n int) []byte {
	k := bytes.IndexByte(buf[n:], 0)
	if k < 0 {
		k = len(buf) - n
	}
	k += n
	dst = append(dst[:len(dst)+n], buf[n:k]...)
	scrubFrom(buf, n, k, argsLen)
	return dst
}
