//go:build darwin || freebsd || netbsd || ios

package filewatch

import "syscall"

func ctime(st *syscall.Stat_t) (sec, nsec int64) {
	return int64(st.Ctimespec.Sec), int64(st.Ctimespec.Nsec) //nolint:unconvert // int32 on 32-bit platforms
}
