package plainfile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// sharingPatience is how long Open keeps retrying a file another process
// holds open without read sharing.
const sharingPatience = 2 * time.Second

// Open opens path read-only. A file another process has open without
// sharing it for reading (a compiler or linker still writing it, a virus
// scanner looking at it) fails with a sharing violation on Windows; Open
// retries that for up to two seconds, with growing pauses, because
// such holds are brief and a module rebuilt in place is exactly when a
// hot reload opens it. Other errors return at once.
func Open(path string) (*os.File, error) {
	deadline := time.Now().Add(sharingPatience)
	pause := 5 * time.Millisecond
	for {
		f, err := os.Open(path)
		if err == nil || !errors.Is(err, windows.ERROR_SHARING_VIOLATION) || time.Now().After(deadline) {
			return f, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 200*time.Millisecond)
	}
}
