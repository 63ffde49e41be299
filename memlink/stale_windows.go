package memlink

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/windows"
)

// stillActive is the exit code GetExitCodeProcess reports for a process
// that is still running (STILL_ACTIVE).
const stillActive = 259

// processGone reports whether no process with this pid is running. A
// process that has exited but whose handle another process still holds
// counts as gone; a process this one may not query counts as running.
func processGone(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer func() { _ = windows.CloseHandle(h) }() // nothing to do about a failure
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code != stillActive
}

// ownDir reports whether de is a directory itself (not a link or junction
// to one). On Windows the temporary directory is the user's own (%TEMP%
// under the profile), so ownership is not looked at.
func ownDir(de fs.DirEntry) bool {
	fi, err := de.Info()
	return err == nil && fi.Mode().IsDir() && fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) == 0
}

// fileInUse reports whether err is the failure to delete a file the
// system still holds: a DLL that stays loaded (one that pinned itself, or
// is still loaded in a worker) is open for execution, and DeleteFile
// fails with ERROR_ACCESS_DENIED or ERROR_SHARING_VIOLATION.
func fileInUse(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)
}
