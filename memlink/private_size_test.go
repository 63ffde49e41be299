package memlink_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// TestLoadModuleSize: a file larger than the maximum module size is
// refused before it is copied (a 4 GiB sparse file used to take half a
// minute and 4 GB of memory), whether its header is valid or not, and a
// file below the bound with a bad header is refused before copying too.
func TestLoadModuleSize(t *testing.T) {
	echo := modtest.Path(t, "echo")
	ext := filepath.Ext(echo)
	dir := t.TempDir()
	echoBytes, err := os.ReadFile(echo)
	if err != nil {
		t.Fatal(err)
	}
	sparse := func(name string, head []byte, size int64) string {
		p := filepath.Join(dir, name+ext)
		if err := os.WriteFile(p, head, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, size); err != nil {
			t.Skipf("cannot make a %d-byte sparse file here: %v", size, err)
		}
		return p
	}
	huge := sparse("huge", []byte("not a library"), 4<<30)
	hugeELF := sparse("hugeelf", echoBytes, 4<<30)
	bigJunk := sparse("bigjunk", []byte("not a library"), 512<<20)

	rt := memlink.New()
	defer rt.Close()
	for _, p := range []string{huge, hugeELF} {
		withDeadline(t, p, func() {
			_, err := rt.Load(memlink.MustParseRef(p))
			if !errors.Is(err, memlink.ErrModuleTooLarge) || !errors.Is(err, memlink.ErrInvalidModule) {
				t.Errorf("Load of a 4 GiB file = %v; want ErrModuleTooLarge and ErrInvalidModule", err)
			}
		})
	}
	withDeadline(t, bigJunk, func() {
		_, err := rt.Load(memlink.MustParseRef(bigJunk))
		if !errors.Is(err, memlink.ErrInvalidModule) || errors.Is(err, memlink.ErrModuleTooLarge) {
			t.Errorf("Load of 512 MiB that is not a library = %v; want ErrInvalidModule", err)
		}
	})
	if st := rt.Stats(); st.LoadErrors["invalid_module"] != 3 {
		t.Errorf("load errors = %v; want 3 invalid_module", st.LoadErrors)
	}

	// The bound is settable, and exact.
	n := int64(len(echoBytes))
	tight := memlink.New(memlink.WithMaxModuleSize(n - 1))
	defer tight.Close()
	if _, err := tight.Load(memlink.MustParseRef(echo)); !errors.Is(err, memlink.ErrModuleTooLarge) {
		t.Errorf("Load of %d bytes with a bound of %d = %v; want ErrModuleTooLarge", n, n-1, err)
	}
	if _, err := tight.Load(memlink.MustParseRef(echo), memlink.LoadInPlace()); !errors.Is(err, memlink.ErrModuleTooLarge) {
		t.Errorf("LoadInPlace of %d bytes with a bound of %d = %v; want ErrModuleTooLarge", n, n-1, err)
	}
	exact := memlink.New(memlink.WithMaxModuleSize(n))
	defer exact.Close()
	h, err := exact.Load(memlink.MustParseRef(echo))
	if err != nil {
		t.Fatalf("Load at exactly the bound: %v", err)
	}
	if got := call(t, exact, h, "echo", "ok"); got != "ok" {
		t.Fatalf("echo = %q", got)
	}
}
