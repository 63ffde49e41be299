//go:build unix

package filewatch

import (
	"os"
	"syscall"
)

func fillSys(s *Sig, _ string, fi os.FileInfo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	s.dev = uint64(st.Dev) //nolint:unconvert // int32 on some platforms
	s.ino = uint64(st.Ino) //nolint:unconvert // uint32 on some platforms
	sec, nsec := ctime(st)
	s.ctime = int64(sec)*1e9 + int64(nsec) //nolint:unconvert // int32 on 32-bit platforms
}
