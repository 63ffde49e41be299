package filewatch

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// fileBasicInfo is FILE_BASIC_INFO, which x/sys/windows does not define.
type fileBasicInfo struct {
	CreationTime, LastAccessTime, LastWriteTime, ChangeTime int64
	FileAttributes                                          uint32
	_                                                       uint32
}

// fillSys adds the volume and file index (the inode's counterpart) and the
// change time, which Windows updates on every write as Unix does its
// status-change time. Both need a handle; the file is opened for its
// attributes only and shared with writers, so a deploy is never blocked.
// Where that fails the signature keeps size and modification time.
func fillSys(s *Sig, path string, _ os.FileInfo) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return
	}
	h, err := windows.CreateFile(p, windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return
	}
	// A read-attributes handle has nothing to flush; a failing close
	// changes nothing in the signature.
	defer func() { _ = windows.CloseHandle(h) }()
	var bi windows.ByHandleFileInformation
	if windows.GetFileInformationByHandle(h, &bi) == nil {
		s.dev = uint64(bi.VolumeSerialNumber)
		s.ino = uint64(bi.FileIndexHigh)<<32 | uint64(bi.FileIndexLow)
	}
	var b fileBasicInfo
	if windows.GetFileInformationByHandleEx(h, windows.FileBasicInfo, (*byte)(unsafe.Pointer(&b)), uint32(unsafe.Sizeof(b))) == nil {
		s.ctime = b.ChangeTime
	}
}
