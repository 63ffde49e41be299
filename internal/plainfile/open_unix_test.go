//go:build unix

package plainfile

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenRefusesOtherKinds opens a FIFO with no writer, a character
// device that never ends, a directory and a socket: each must fail at once
// with ErrNotRegular (or, for the socket, which cannot be opened at all,
// with the open's error), never hang or read.
func TestOpenRefusesOtherKinds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.so")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.so")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, c := range []struct {
		path    string
		regular bool // fails with ErrNotRegular
	}{{fifo, true}, {"/dev/zero", true}, {"/dev/null", true}, {dir, true}, {sock, false}} {
		done := make(chan error, 1)
		go func() {
			f, err := Open(c.path)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			var pe *os.PathError
			if err == nil || !errors.As(err, &pe) || pe.Path != c.path || errors.Is(err, ErrNotRegular) != c.regular {
				t.Errorf("Open(%s) = %v; want a *PathError (ErrNotRegular: %v)", c.path, err, c.regular)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) still blocked after 5 s", c.path)
		}
	}
}

// TestOpenLeavesBlocking checks the *os.File of a regular file is
// blocking again, so the runtime's poller never sees it.
func TestOpenLeavesBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, _ := f.SyscallConn()
	var flags int
	sc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if err != nil || flags&unix.O_NONBLOCK != 0 {
		t.Fatalf("flags %#x, %v: still non-blocking", flags, err)
	}
	if flags, _ := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Fatal("descriptor is not close-on-exec")
	}
}

// TestOpenFileInfo checks OpenFile's Info is the file's status.
func TestOpenFileInfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, info, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	if want := FromStat(&st); info != want || info.Size != 1 {
		t.Fatalf("OpenFile's Info = %+v; stat says %+v", info, want)
	}
	if again, err := f.Stat(); err != nil || !again.Same(info) {
		t.Fatalf("Stat = %+v, %v; want %+v", again, err, info)
	}
}

// TestReadDirFIFO: ReadDir of a FIFO fails at once; of a directory it
// lists the entries in name order.
func TestReadDirFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "plugins")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a"), nil, 0o600)
	done := make(chan error, 1)
	go func() { _, err := ReadDir(fifo); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, unix.ENOTDIR) {
			t.Fatalf("ReadDir(FIFO) = %v; want ENOTDIR", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadDir(FIFO) still blocked after 5 s")
	}
	ents, err := ReadDir(dir)
	if err != nil || len(ents) != 2 || ents[0].Name() != "a" || ents[1].Name() != "plugins" {
		t.Fatalf("ReadDir = %v, %v", ents, err)
	}
}
