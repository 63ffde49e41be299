package plainfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenReads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	if f.Name() != p {
		t.Errorf("Name() = %q, want %q", f.Name(), p)
	}
}

func TestOpenMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing")
	_, err := Open(p)
	var pe *os.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != p {
		t.Fatalf("Open(missing) = %v; want a *PathError for %s that is fs.ErrNotExist", err, p)
	}
}

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.json")
	if err := os.WriteFile(p, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("ReadFile at the limit = %q, %v", b, err)
	}
	if _, err := ReadFile(p, 9); err == nil {
		t.Fatal("ReadFile of a file over the limit succeeded")
	}
	if _, err := ReadFile(dir, 100); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("ReadFile(directory) = %v; want ErrNotRegular", err)
	}
}

// TestStatSeesChange checks Same tells a file that changed size from one
// that did not.
func TestStatSeesChange(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, info, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if info.Size != 3 {
		t.Fatalf("size %d", info.Size)
	}
	if err := os.WriteFile(p, []byte("abcd"), 0o600); err != nil {
		t.Fatal(err)
	}
	if now, err := f.Stat(); err != nil || now.Same(info) {
		t.Fatalf("after a write: Stat = %+v, %v; Same(%+v) should be false", now, err, info)
	}
}

// TestFileReads reads a file through OpenFile's File: Read to the end,
// Seek back, Close twice.
func TestFileReads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello world"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(f); err != nil || string(b) != "hello world" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if off, err := f.Seek(6, io.SeekStart); err != nil || off != 6 {
		t.Fatalf("Seek = %d, %v", off, err)
	}
	b := make([]byte, 5)
	if _, err := io.ReadFull(f, b); err != nil || string(b) != "world" {
		t.Fatalf("after Seek read %q, %v", b, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := f.Read(b); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}
