package plainfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// TestOpenWaitsOutSharingViolation holds a file open without any sharing,
// as a linker writing it would, and releases it after a while: Open must
// wait for it rather than fail.
func TestOpenWaitsOutSharingViolation(t *testing.T) {
	p := filepath.Join(t.TempDir(), "busy.dll")
	if err := os.WriteFile(p, []byte("module"), 0o600); err != nil {
		t.Fatal(err)
	}
	name, err := windows.UTF16PtrFromString(p)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Open(p); err == nil {
		windows.CloseHandle(h)
		t.Skip("this system does not enforce share modes")
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		windows.CloseHandle(h)
	}()
	f, err := Open(p)
	if err != nil {
		t.Fatalf("Open of a file held for 100 ms: %v", err)
	}
	defer f.Close()
	if b, err := io.ReadAll(f); err != nil || string(b) != "module" {
		t.Fatalf("read %q, %v", b, err)
	}
}

// TestOpenRefusesOtherKinds: the null device, the console and a directory
// are not disk files and must be refused before anything reads them.
func TestOpenRefusesOtherKinds(t *testing.T) {
	for _, p := range []string{"NUL", "CONIN$", t.TempDir()} {
		f, err := Open(p)
		if err == nil {
			f.Close()
		}
		if p == "CONIN$" && err != nil && !errors.Is(err, ErrNotRegular) {
			continue // no console to open (a service, a CI runner): nothing to refuse
		}
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("Open(%s) = %v; want ErrNotRegular", p, err)
		}
	}
}
