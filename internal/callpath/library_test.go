//go:build darwin || freebsd || linux || netbsd

package callpath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/memlink/memlink-go/abi"
	"github.com/memlink/memlink-go/internal/modtest"
)

// TestOpenRefusedCarriesTheLoadersMessage opens a file that is no library
// and checks that the error is the loader's own message about that file,
// naming the file the caller knows: dlerror was read for this dlopen, on
// its thread. Many goroutines do it at once, so that a message read on
// another thread (or another goroutine's) would show.
func TestOpenRefusedCarriesTheLoadersMessage(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		p := filepath.Join(dir, "junk"+string(rune('a'+i))+".so")
		if err := os.WriteFile(p, []byte(strings.Repeat("not an ELF file\n", 64)), 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "/srv/" + filepath.Base(p)
			for range 50 {
				lib, err := OpenAs(p, name)
				if err == nil {
					lib.Close()
					t.Errorf("OpenAs(%s) succeeded", p)
					return
				}
				msg := err.Error()
				if !errors.Is(err, abi.ErrInvalidModule) || !strings.Contains(msg, "dynamic loader: ") || !strings.Contains(msg, name) || strings.Contains(msg, p) {
					t.Errorf("OpenAs(%s) = %v; want abi.ErrInvalidModule with the loader's message naming %s only", p, err, name)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestLookupAndClose looks up a symbol that is there and one that is not,
// and closes the library twice.
func TestLookupAndClose(t *testing.T) {
	lib, err := Open(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := lib.Lookup(abi.SymCall); err != nil || p == 0 {
		t.Errorf("Lookup(%s) = %#x, %v; want an address", abi.SymCall, p, err)
	}
	if p, err := lib.Lookup("memlink_no_such_function"); !errors.Is(err, abi.ErrMissingSymbol) || p != 0 {
		t.Errorf("Lookup of a missing symbol = %#x, %v; want abi.ErrMissingSymbol", p, err)
	}
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lib.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := lib.Lookup(abi.SymCall); !errors.Is(err, ErrLibraryClosed) {
		t.Errorf("Lookup after Close = %v, want ErrLibraryClosed", err)
	}
}

// TestLongNames passes a path and a symbol name longer than the recycled
// buffer of a loader call: they are copied to memory of their own.
func TestLongNames(t *testing.T) {
	long := strings.Repeat("x", 300)
	p := filepath.Join(t.TempDir(), long[:200], long[:100]+".so")
	if _, err := OpenAs(p, p); !errors.Is(err, abi.ErrInvalidModule) || !strings.Contains(err.Error(), long[:100]+".so") {
		t.Errorf("OpenAs(a missing file with a long path) = %v; want the loader's message naming it", err)
	}
	lib, err := Open(modtest.Path(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if _, err := lib.Lookup("memlink_" + long); !errors.Is(err, abi.ErrMissingSymbol) {
		t.Errorf("Lookup(a long name) = %v, want abi.ErrMissingSymbol", err)
	}
	if p, err := lib.Lookup(abi.SymInit); err != nil || p == 0 {
		t.Errorf("Lookup(%s) after the long one = %#x, %v", abi.SymInit, p, err)
	}
}
