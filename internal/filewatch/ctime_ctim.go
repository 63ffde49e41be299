//go:build linux || openbsd || solaris || aix || illumos || dragonfly

package filewatch

import "syscall"

func ctime(st *syscall.Stat_t) (sec, nsec int64) {
	return int64(st.Ctim.Sec), int64(st.Ctim.Nsec) //nolint:unconvert // int32 on 32-bit platforms
}
