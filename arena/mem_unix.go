//go:build linux || darwin || freebsd || netbsd

package arena

import "golang.org/x/sys/unix"

// reserve maps n bytes of private, anonymous, read-write memory.
func reserve(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
}

// release unmaps memory obtained from reserve.
func release(b []byte) error { return unix.Munmap(b) }
